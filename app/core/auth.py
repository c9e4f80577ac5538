"""Authentication: password hashes, sessions, API tokens, CSRF and login throttling.

Sessions and tokens live in PostgreSQL (only their SHA-256 hashes), so any replica can
serve any request. A browser gets an HttpOnly session cookie plus a per-session CSRF
token that every cookie-authenticated unsafe request must echo (form field
`csrf_token` or header `X-CSRF-Token`). Scripts use `Authorization: Bearer <token>`,
which needs no CSRF token since browsers never send it on their own.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Request

from app.core import database
from app.core.config import get_settings
from app.core.errors import Forbidden, NotAuthenticated, TooManyRequests
from app.core.queries import load_queries

log = logging.getLogger("app.core.auth")
Q = load_queries(Path(__file__).parent / "queries" / "auth.sql")

SESSION_COOKIE = "bmc_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
TOKEN_PREFIX = "bmc_"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Per-IP failures allowed in the window, as a multiple of the per-username limit.
IP_FAILURE_FACTOR = 4
# A hash to verify against when the user does not exist, so timing does not reveal it.
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class User:
    id: int
    username: str
    email: str
    full_name: str
    role: str
    timezone: str
    language: str | None = None  # None: the hub's LANGUAGE
    via: str = "session"  # "session" or "token"
    csrf_token: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- login throttling -------------------------------------------------------------------

def check_throttle(username: str, ip: str) -> None:
    """Raise TooManyRequests when this username or IP failed too often recently."""
    settings = get_settings()
    row = database.execute_query(
        Q["count_recent_failures"],
        {"username": username, "ip": ip, "window_s": settings.login_window_s},
    )[0]
    if row["by_username"] >= settings.login_max_failures or \
            row["by_ip"] >= settings.login_max_failures * IP_FAILURE_FACTOR:
        retry = settings.login_window_s
        if row["last_failure"] is not None:
            elapsed = (datetime.now(row["last_failure"].tzinfo) - row["last_failure"]).total_seconds()
            retry = max(1, int(settings.login_window_s - elapsed))
        raise TooManyRequests(
            "Too many failed logins. Try again in %(minutes)s minute(s).", retry_after_s=retry,
            minutes=max(1, retry // 60),
        )


def authenticate(login: str, password: str, ip: str) -> User | None:
    """The user for these credentials, or None; records the attempt for throttling."""
    check_throttle(login, ip)
    rows = database.execute_query(Q["read_user_for_login"], {"login": login})
    row = rows[0] if rows else None
    ok = verify_password(row["password_hash"] if row else None, password) and bool(row and row["active"])
    with database.transaction():
        database.execute_update(Q["record_login_attempt"], {"username": login, "ip": ip, "succeeded": ok})
        if ok:
            database.execute_update(Q["clear_failures"], {"username": login})
            database.execute_update(Q["touch_last_login"], {"user_id": row["id"]})
            # Housekeeping rides on sign-ins (both deletes use an index): no extra job needed.
            database.execute_update(Q["prune_sessions"])
            database.execute_update(Q["prune_login_attempts"])
    if not ok:
        log.info("failed login for %r from %s", login[:64], ip)
        return None
    log.info("login: %s from %s", row["username"], ip)
    return User(row["id"], row["username"], row["email"], row["full_name"], row["role"], row["timezone"])


# --- sessions ---------------------------------------------------------------------------

def create_session(user_id: int, request: Request) -> str:
    """Store a new session; return the cookie value (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    database.execute_update(Q["create_session"], {
        "token_hash": _digest(token),
        "user_id": user_id,
        "csrf_token": secrets.token_urlsafe(32),
        "user_agent": request.headers.get("user-agent", ""),
        "ip": client_ip(request),
        "max_age_s": get_settings().session_max_age_s,
    })
    return token


def end_session(token: str) -> None:
    database.execute_update(Q["delete_session"], {"token_hash": _digest(token)})


def end_user_sessions(user_id: int) -> None:
    database.execute_update(Q["delete_user_sessions"], {"user_id": user_id})


def set_session_cookie(response, token: str) -> None:
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE, token, max_age=settings.session_max_age_s, httponly=True,
        samesite="lax", secure=settings.secure_cookies, path="/",
    )


def clear_session_cookie(response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


# --- API tokens -------------------------------------------------------------------------

def create_api_token(user_id: int, name: str, expires_at: datetime | None = None) -> str:
    """Create a personal API token; the secret is returned once and only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    database.execute_insert(Q["create_token"], {
        "user_id": user_id, "name": name[:100] or "token", "token_prefix": token[:12],
        "token_hash": _digest(token), "expires_at": expires_at,
    })
    return token


def list_api_tokens(user_id: int) -> list[dict]:
    return database.execute_query(Q["list_tokens"], {"user_id": user_id})


def revoke_api_token(user_id: int, token_id: int) -> bool:
    return database.execute_update(Q["revoke_token"], {"id": token_id, "user_id": user_id}) == 1


# --- resolving the user of a request ----------------------------------------------------

def _user_from_bearer(token: str) -> User | None:
    rows = database.execute_query(Q["read_token_user"], {"token_hash": _digest(token)})
    if not rows:
        return None
    r = rows[0]
    return User(r["id"], r["username"], r["email"], r["full_name"], r["role"], r["timezone"], r["language"],
                via="token")


def _user_from_cookie(token: str) -> User | None:
    rows = database.execute_query(Q["read_session_user"], {"token_hash": _digest(token)})
    if not rows:
        return None
    r = rows[0]
    return User(r["id"], r["username"], r["email"], r["full_name"], r["role"], r["timezone"], r["language"],
                via="session", csrf_token=r["csrf_token"])


def user_from_request(request: Request) -> User | None:
    """The user a request authenticates as (bearer token first, then session cookie)."""
    cached = getattr(request.state, "user", False)
    if cached is not False:
        return cached
    # Signing in is the core's work even on a module's route: the module's switches do not
    # apply to it (the session lookup refreshes last_seen_at).
    with database.acting_module(None):
        user = _resolve_user(request)
    request.state.user = user
    return user


def _resolve_user(request: Request) -> User | None:
    user = None
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        user = _user_from_bearer(header[7:].strip())
        if user is None:
            raise NotAuthenticated("Invalid, expired or revoked API token")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            user = _user_from_cookie(cookie)
    return user


async def check_csrf(request: Request, user: User) -> None:
    """Cookie-authenticated unsafe requests must carry the session's CSRF token."""
    if user.via != "session" or request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not user.csrf_token or not hmac.compare_digest(sent, user.csrf_token):
        raise Forbidden("CSRF token missing or wrong; reload the page and try again")
