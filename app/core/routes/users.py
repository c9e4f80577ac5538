"""Users API for admins (/api/v1/users) and the admin users pages (/admin/users)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from app.core import users
from app.core.deps import AdminUser
from app.core.errors import HubError
from app.core.forms import form_data, validation_messages
from app.core.templating import render
from app.core.users import UserCreate, UserOut, UserUpdate

api = APIRouter(prefix="/api/v1/users", tags=["users"])
pages = APIRouter(prefix="/admin/users", include_in_schema=False)


@api.get("", response_model=list[UserOut])
def read_users(admin: AdminUser) -> list[dict]:
    return users.list_users()


@api.get("/{user_id}", response_model=UserOut)
def read_user(user_id: int, admin: AdminUser) -> dict:
    return users.get_user(user_id)


@api.post("", response_model=UserOut, status_code=201)
def create_user(body: UserCreate, admin: AdminUser) -> dict:
    return users.create_user(body)


@api.patch("/{user_id}", response_model=UserOut)
def update_user(user_id: int, body: UserUpdate, admin: AdminUser) -> dict:
    return users.update_user(user_id, body)


# --- pages ------------------------------------------------------------------------------

@pages.get("")
def read_user_list(request: Request, admin: AdminUser):
    return render(request, "admin/users.html", {"users": users.list_users(), "errors": {}, "form": {}})


@pages.post("")
async def create_user_page(request: Request, admin: AdminUser):
    data = await form_data(request)
    data["role"] = data.get("role") or "user"
    data = {k: v for k, v in data.items() if v != "" or k in ("username", "email", "password")}
    try:
        await run_in_threadpool(users.create_user, UserCreate(**data))
    except ValidationError as exc:
        errors = validation_messages(exc)
    except HubError as exc:
        errors = {exc.field or "__all__": exc.message}
    else:
        return RedirectResponse("/admin/users?notice=created", status_code=303)
    rows = await run_in_threadpool(users.list_users)
    data.pop("password", None)
    return render(request, "admin/users.html", {"users": rows, "errors": errors, "form": data}, 422)


EDITABLE = ("role", "active", "password", "full_name", "email", "timezone")


@pages.get("/{user_id}")
def read_user_edit(request: Request, user_id: int, admin: AdminUser):
    return render(request, "admin/user_edit.html", {"user": users.get_user(user_id), "errors": {}})


@pages.post("/{user_id}")
async def update_user_page(request: Request, user_id: int, admin: AdminUser):
    """The list's quick buttons (role, active) and the edit form both post here."""
    data = await form_data(request)
    from_edit_form = data.get("form") == "edit"
    # A blank password field means "keep it"; a blank full name is allowed.
    changes = {k: v for k, v in data.items() if k in EDITABLE and (v != "" or k == "full_name")}
    if "active" in changes:
        changes["active"] = changes["active"] == "true"
    try:
        await run_in_threadpool(users.update_user, user_id, UserUpdate(**changes))
    except ValidationError as exc:
        errors, status = validation_messages(exc), 422
    except HubError as exc:
        errors, status = {exc.field or "__all__": exc.message}, exc.status
    else:
        return RedirectResponse("/admin/users?notice=saved", status_code=303)
    if from_edit_form:
        current = await run_in_threadpool(users.get_user, user_id)
        changes.pop("password", None)
        return render(request, "admin/user_edit.html", {"user": {**current, **changes}, "errors": errors}, status)
    rows = await run_in_threadpool(users.list_users)
    return render(request, "admin/users.html", {"users": rows, "errors": {"__all__": " ".join(errors.values())},
                                                "form": {}}, status)
