"""Dependency aliases used by every router: `CurrentUser`, `AdminUser`, `OptionalUser`.

Every page and API route needs a signed-in user except the login page, /health and the
static files. A route that must be reachable without one (a signed e-mail action link,
which carries its own proof) says so with `@public`; the test suite walks every route
of the app and fails on any unmarked route that answers without a user.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from app.core import auth, database, i18n
from app.core.auth import User
from app.core.errors import Forbidden, NotAuthenticated


async def get_current_user(request: Request) -> User:
    """The signed-in user (session or bearer token); CSRF-checked for unsafe cookie requests."""
    user = await run_in_threadpool(auth.user_from_request, request)
    if user is None:
        raise NotAuthenticated("Sign in first (session cookie or Authorization: Bearer token)")
    await auth.check_csrf(request, user)
    # Database triggers attribute changes made during this request to this user.
    database.set_acting_user(user.id)
    i18n.set_language(user.language)
    return user


async def get_admin_user(user: Annotated[User, Depends(get_current_user)]) -> User:
    if not user.is_admin:
        raise Forbidden("Only administrators may do this")
    return user


async def get_optional_user(request: Request) -> User | None:
    try:
        return await run_in_threadpool(auth.user_from_request, request)
    except NotAuthenticated:
        return None


def public(endpoint):
    """Mark a route handler as deliberately reachable without a signed-in user."""
    endpoint.bmc_public = True
    return endpoint


CurrentUser = Annotated[User, Depends(get_current_user)]
AdminUser = Annotated[User, Depends(get_admin_user)]
OptionalUser = Annotated[User | None, Depends(get_optional_user)]
