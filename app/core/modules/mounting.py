"""Putting a module's routes into the app, and the gate in front of them.

Routes are added once per app (at start-up, or when a module is first enabled) and
stay in the route table; the gate decides per request: a path owned by a module that
is not enabled answers 404 (API and pages alike), so enabling and disabling take
effect at once without rebuilding the app. The gate also runs each request of a module
"as" that module (READ_ONLY/DRY_RUN apply) and turns an exception from its endpoint
into a 500 for that request, logged with the module's name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from starlette._utils import get_route_path
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core import auth, database, i18n
from app.core.fields import N_
from app.core.templating import render

log = logging.getLogger("app.core.modules")

API_PREFIX = "/api/v1"
STATIC_PREFIX = "/static/modules"
_PARAM = re.compile(r"\{[^}]*\}")


class RouteClash(Exception):
    pass


def _norm(path: str) -> str:
    return _PARAM.sub("{}", path.rstrip("/") or "/")


def _methods(route: object) -> set[str]:
    methods = getattr(route, "methods", None)
    return set(methods) if methods else {"*"}


def flat_routes(routes) -> list[tuple[BaseRoute, str, set[str], bool]]:
    """(top-level route, full path, methods, is a mount) for every endpoint under `routes`.

    Newer FastAPI keeps an included router as one entry (with `original_router` and an
    `include_context` holding its prefix); older versions copy the routes in. Walking the
    routers directly is much cheaper than FastAPI's own resolution, which builds every
    route's effective context (it matters: each `create_app()` checks every module).
    """
    out: list[tuple[BaseRoute, str, set[str], bool]] = []

    def walk(top: BaseRoute, items, prefix: str) -> None:
        for route in items:
            context, original = getattr(route, "include_context", None), getattr(route, "original_router", None)
            if context is not None and original is not None:
                walk(top, original.routes, prefix + (getattr(context, "prefix", "") or ""))
            else:
                out.append((top, prefix + getattr(route, "path", ""), _methods(route), isinstance(route, Mount)))

    for top in routes:
        walk(top, [top], "")
    return out


def route_owner(route: BaseRoute) -> str:
    return getattr(route, "_bmc_module", None) or "the core"


def check_clash(app: FastAPI, name: str, routers: list[tuple[str, APIRouter]]) -> None:
    """Raise RouteClash when a route of `name` would shadow or be shadowed by another one."""
    existing = [(top, _norm(path), methods, is_mount, path)
                for top, path, methods, is_mount in flat_routes(app.router.routes)
                if getattr(top, "_bmc_module", None) != name]
    for prefix, _router in routers:
        for top, path, _m, is_mount, raw in existing:
            if path == prefix or path.startswith(prefix + "/"):
                raise RouteClash(f"its prefix {prefix} is already used by {route_owner(top)} (route {raw})")
            if is_mount and path != "/" and prefix.startswith(path + "/"):
                raise RouteClash(f"its prefix {prefix} lies under {raw}, mounted by {route_owner(top)}")
    for prefix, router in routers:
        for _top, new_path, new_methods, _is_mount in flat_routes(router.routes):
            full = _norm(prefix + new_path)
            for top, path, methods, _is_mount2, raw in existing:
                if path == full and (methods & new_methods or "*" in methods | new_methods):
                    raise RouteClash(f"route {prefix}{new_path} clashes with {route_owner(top)}'s {raw}")


def mount(app: FastAPI, name: str, routers: list[tuple[str, APIRouter]]) -> None:
    """Add the module's routers (already checked) and tag the new routes with its name."""
    before = len(app.router.routes)
    for prefix, router in routers:
        if prefix.startswith(API_PREFIX):
            app.include_router(router, prefix=prefix, tags=[name])
        else:
            app.include_router(router, prefix=prefix, include_in_schema=False)
    for route in app.router.routes[before:]:
        route._bmc_module = name  # type: ignore[attr-defined]
    app.openapi_schema = None  # the next /openapi.json includes the module


def error_response(request: Request, status: int, message: str):
    """The hub's error answer: JSON for the API, the error page otherwise."""
    path = request.url.path
    if path.startswith("/api/") or "text/html" not in request.headers.get("accept", "") \
            and request.method != "GET":
        return JSONResponse({"detail": message}, status_code=status)
    return render(request, "error.html", {"status": status, "message": i18n.lookup(message)}, status)


async def _error_page(scope: Scope, receive: Receive, status: int, message: str):
    """The error answer, with the signed-in user's navigation on an HTML page."""
    request = Request(scope, receive)
    if not request.url.path.startswith("/api/"):
        try:
            user = await run_in_threadpool(auth.user_from_request, request)
        except Exception:  # noqa: BLE001 - a bad token just means no navigation on the error page
            request.state.user = None
        else:
            if user is not None:
                i18n.set_language(user.language)  # the page in the signed-in user's language
    return error_response(request, status, message)


class ModuleGate:
    """ASGI middleware: 404 for disabled modules, acting module, per-module 500s."""

    def __init__(self, app: ASGIApp, owner_of: Callable[[str], str | None],
                 is_active: Callable[[str], bool],
                 acting: Callable[[str], AbstractContextManager[None]] = database.acting_module) -> None:
        self.app = app
        self.owner_of = owner_of
        self.is_active = is_active
        self.acting = acting

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = self.owner_of(scope.get("path", ""))
        if name is None:
            await self.app(scope, receive, send)
            return
        if not self.is_active(name):
            await (await _error_page(scope, receive, 404, "Not found"))(scope, receive, send)
            return
        started = False

        async def tracking_send(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with self.acting(name):
            try:
                await self.app(scope, receive, tracking_send)
            except Exception as exc:  # noqa: BLE001 - one request fails, the hub goes on
                logging.getLogger(f"app.modules.{name}").error(
                    "module %s: unhandled error on %s %s", name, scope.get("method"), scope.get("path"),
                    exc_info=exc)
                if started:
                    raise
                response = await _error_page(scope, receive, 500, N_("Internal error; it has been logged."))
                await response(scope, receive, send)


class ModuleStatic:
    """`/static/modules/<name>/<file>`: each enabled module's `static/` folder."""

    def __init__(self, folder_of: Callable[[str], Path | None]) -> None:
        self.folder_of = folder_of
        self._apps: dict[Path, StaticFiles] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Inside the mount: root_path ends with /static/modules, the rest is /<name>/<file>.
        tail = get_route_path(scope).lstrip("/")
        name, _, _file = tail.partition("/")
        folder = self.folder_of(name)
        if folder is None:
            await error_response(Request(scope, receive), 404, "Not found")(scope, receive, send)
            return
        app = self._apps.get(folder)
        if app is None:
            app = self._apps[folder] = StaticFiles(directory=folder)
        await app(dict(scope, root_path=scope.get("root_path", "") + "/" + name), receive, send)


def install_static(app: FastAPI, folder_of: Callable[[str], Path | None]) -> None:
    """Mount the module static files before the core's `/static` (which would shadow them)."""
    app.router.routes.insert(0, Mount(STATIC_PREFIX, app=ModuleStatic(folder_of), name="module_static"))
