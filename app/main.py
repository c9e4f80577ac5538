"""create_app(): the FastAPI application with the core routes and the enabled modules."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from urllib.parse import quote

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core import database, i18n, realtime
from app.core.errors import FormError, HubError, NotAuthenticated
from app.core.fields import N_
from app.core.logs import setup_logging
from app.core.modules import loader
from app.core.routes import auth, customers, dashboard, docs, events, health, preferences, users
from app.core.routes import backups as backups_route
from app.core.routes import metrics as metrics_route
from app.core.templating import render

log = logging.getLogger("app")
STATIC_DIR = Path(__file__).parent / "core" / "static"


def bootstrap_dist() -> Path:
    """The Bootstrap dist files shipped by the `bootstrap-wrapper` wheel (no CDN)."""
    spec = importlib.util.find_spec("bootstrap")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("bootstrap-wrapper is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path == "/health":
        return False
    return "text/html" in request.headers.get("accept", "") or request.method == "GET"


def _error_response(request: Request, status: int, message: str, field: str | None = None, headers=None,
                    translated: str | None = None):
    # The API's detail stays English (scripts match on it); a page shows it translated.
    if _wants_html(request):
        shown = translated if translated is not None else i18n.lookup(message)
        return render(request, "error.html", {"status": status, "message": shown}, status)
    body = {"detail": message}
    if field:
        body["field"] = field
    # Scripts match on the English `detail`; a page's own script shows `message`, the same text in
    # the reader's language (sent only when it differs).
    shown = translated if translated is not None else i18n.lookup(message)
    if shown != message:
        body["message"] = shown
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def _not_authenticated(request: Request, exc: NotAuthenticated):
        if _wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return JSONResponse({"detail": exc.message}, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(FormError)
    async def _form_error(request: Request, exc: FormError):
        return render(request, exc.template, exc.context | {"errors": exc.errors}, exc.status)

    @app.exception_handler(HubError)
    async def _hub_error(request: Request, exc: HubError):
        headers = {"Retry-After": str(exc.retry_after_s)} if hasattr(exc, "retry_after_s") else None
        return _error_response(request, exc.status, exc.message, exc.field, headers, i18n.error_text(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            errors.append({"field": loc, "message": err.get("msg", "invalid")})
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]) or "invalid request"
        if _wants_html(request):
            return render(request, "error.html", {"status": 422, "message": summary}, 422)
        return JSONResponse({"detail": summary, "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else N_("Request failed")
        if exc.status_code == 404 and message == "Not Found":
            message = N_("Not found")
        if not isinstance(exc.detail, str) and not _wants_html(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return _error_response(request, exc.status_code, message, headers=exc.headers)

    @app.exception_handler(psycopg.errors.DataError)
    async def _bad_value(request: Request, exc: psycopg.errors.DataError):
        # A value the database cannot store (NUL byte, number out of range, bad date) is the
        # sender's mistake; validation should have caught it, this is the safety net.
        log.warning("rejected value on %s %s: %s", request.method, request.url.path, exc)
        return _error_response(request, 422, N_("A value is invalid or out of range"))

    @app.exception_handler(psycopg.errors.IntegrityError)
    async def _integrity(request: Request, exc: psycopg.errors.IntegrityError):
        log.warning("integrity error on %s %s: %s", request.method, request.url.path,
                    exc.diag.message_primary or exc)
        return _error_response(request, 409, N_("This conflicts with existing data"))

    @app.exception_handler(psycopg.errors.ReadOnlySqlTransaction)
    async def _read_only(request: Request, exc: psycopg.errors.ReadOnlySqlTransaction):
        # A module under READ_ONLY (or DRY_RUN on its own connection) tried to write: PostgreSQL refused.
        refused = database.refusal(exc)
        if refused is None:
            log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
            return _error_response(request, 500, N_("Internal error; it has been logged."))
        return _error_response(request, refused.status, refused.message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return _error_response(request, 500, N_("Internal error; it has been logged."))


def create_app(load_modules: bool = True) -> FastAPI:
    setup_logging()
    # /docs and /openapi.json are served by app.core.routes.docs, behind sign-in.
    app = FastAPI(title="BMC Hub", version="0.1.0", docs_url=None, redoc_url=None, openapi_url=None,
                  description="Customers, cases and reminders. Authenticate with a personal API token "
                              "(`Authorization: Bearer ...`).",
                  lifespan=realtime.lifespan)
    install_error_handlers(app)
    app.mount("/static/bootstrap", StaticFiles(directory=bootstrap_dist()), name="bootstrap")
    app.mount(docs.SWAGGER_URL, StaticFiles(directory=docs.swagger_dist()), name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(health.router)
    app.include_router(docs.router)
    app.include_router(auth.router)
    app.include_router(auth.api)
    app.include_router(dashboard.router)
    app.include_router(customers.api)
    app.include_router(customers.pages)
    app.include_router(users.api)
    app.include_router(users.pages)
    app.include_router(events.api)
    app.include_router(preferences.api)
    app.include_router(preferences.pages)
    app.include_router(metrics_route.router)
    app.include_router(backups_route.api)
    app.include_router(backups_route.pages)
    if load_modules:
        loader.install(app)
    # The browser's language for pages seen before signing in; a signed-in user's replaces it.
    app.add_middleware(i18n.LanguageMiddleware)
    # Outermost, after the modules' middleware: every request is counted, gated ones too.
    from app.core import metrics

    metrics.install(app)
    return app
