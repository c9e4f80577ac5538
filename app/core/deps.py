"""Dependency aliases used by every router: `CurrentUser`, `AdminUser`, `PageUser`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from app.core import auth, database
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


CurrentUser = Annotated[User, Depends(get_current_user)]
AdminUser = Annotated[User, Depends(get_admin_user)]
OptionalUser = Annotated[User | None, Depends(get_optional_user)]
