"""Sign-in pages and the auth API: /login, /logout, /api/v1/auth/me, /api/v1/auth/tokens."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core import auth, i18n, users
from app.core.config import get_settings
from app.core.deps import CurrentUser, OptionalUser, public
from app.core.errors import NotFound, TooManyRequests
from app.core.fields import VISIBLE
from app.core.templating import render

router = APIRouter()
MAX_LOGIN_LENGTH = 254
# Hashing is deliberately slow; an endless password must not become a way to burn CPU.
MAX_PASSWORD_LENGTH = 200
api = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _safe_next(url: str | None) -> str:
    """Only same-site relative paths are allowed after login (no open redirect)."""
    if not url:
        return "/"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


def _cross_site(request: Request) -> bool:
    """A browser posting from another site (login CSRF): its Origin is not this host's."""
    origin = request.headers.get("origin")
    if origin is None:
        return False  # not a browser form post, or an old browser: nothing to compare
    parts = urlsplit(origin)
    allowed = {request.headers.get("host", ""), urlsplit(get_settings().base_url).netloc}
    return parts.netloc not in allowed


@public
@router.get("/login", include_in_schema=False)
def read_login(request: Request, user: OptionalUser, next: str | None = None):
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "error": None, "username": ""})


@public
@router.post("/login", include_in_schema=False)
def login(request: Request, username: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"):
    # Lengths are checked here, not by Form(max_length=...), so the answer is the login page.
    ctx = {"next": _safe_next(next), "username": username[:MAX_LOGIN_LENGTH]}
    if _cross_site(request):
        refused = i18n.gettext("Sign in from the hub's own login page.")
        return render(request, "login.html", {**ctx, "error": refused}, 403)
    if not username or not password:
        return render(request, "login.html", {**ctx, "error": i18n.gettext("Enter your username and password.")}, 422)
    if len(username) > MAX_LOGIN_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
        return render(request, "login.html", {**ctx, "error": i18n.gettext("Wrong username or password.")}, 401)
    try:
        user = auth.authenticate(username.strip(), password, auth.client_ip(request))
    except TooManyRequests as exc:
        response = render(request, "login.html", {**ctx, "error": i18n.error_text(exc)}, 429)
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    if user is None:
        return render(request, "login.html", {**ctx, "error": i18n.gettext("Wrong username or password.")}, 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    auth.set_session_cookie(response, auth.create_session(user.id, request))
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, user: CurrentUser):
    token = request.cookies.get(auth.SESSION_COOKIE)
    if token:
        auth.end_session(token)
    response = RedirectResponse("/login?notice=logged_out", status_code=303)
    auth.clear_session_cookie(response)
    return response


class Me(BaseModel):
    id: int
    username: str
    email: str
    full_name: str
    role: str
    timezone: str
    language: str = Field(description="the language the hub speaks to this user (da or en)")
    auth: str


@api.get("/me", response_model=Me)
def read_me(user: CurrentUser) -> Me:
    return Me(id=user.id, username=user.username, email=user.email, full_name=user.full_name,
              role=user.role, timezone=user.timezone,
              language=user.language or i18n.default_language(), auth=user.via)


class MeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: Literal["da", "en"] | None = Field(description="da or en; null = follow the hub's LANGUAGE")


@api.patch("/me", response_model=Me)
def update_me(body: MeUpdate, user: CurrentUser) -> Me:
    """Change the signed-in user's own settings (today: the language of pages and e-mails)."""
    users.set_language(user.id, body.language)
    return Me(id=user.id, username=user.username, email=user.email, full_name=user.full_name,
              role=user.role, timezone=user.timezone,
              language=body.language or i18n.default_language(), auth=user.via)


class TokenCreate(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), *VISIBLE]


@api.get("/tokens")
def read_tokens(user: CurrentUser) -> list[dict]:
    return auth.list_api_tokens(user.id)


@api.post("/tokens", status_code=201)
def create_token(body: TokenCreate, user: CurrentUser) -> dict:
    token = auth.create_api_token(user.id, body.name)
    return {"token": token, "name": body.name, "note": "Shown once; store it now."}


@api.delete("/tokens/{token_id}", status_code=204)
def delete_token(token_id: int, user: CurrentUser) -> None:
    if not auth.revoke_api_token(user.id, token_id):
        raise NotFound("Token %(id)s not found", id=token_id)
