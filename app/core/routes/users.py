"""Users API for admins (/api/v1/users) and the admin users pages (/admin/users)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from app.core import users
from app.core.deps import AdminUser
from app.core.forms import PostedForm, form_errors, parse_form
from app.core.templating import render
from app.core.users import UserCreate, UserOut, UserUpdate

api = APIRouter(prefix="/api/v1/users", tags=["users"])
pages = APIRouter(prefix="/admin/users", include_in_schema=False)
LIST, EDIT = "admin/users.html", "admin/user_edit.html"


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
    return render(request, LIST, {"users": users.list_users(), "errors": {}, "form": {}})


@pages.post("")
def create_user_page(request: Request, admin: AdminUser, posted: PostedForm):
    data = dict(posted)
    data["role"] = data.get("role") or "user"
    data = {k: v for k, v in data.items() if v != "" or k in ("username", "email", "password")}
    # The form comes back filled in (the password excepted) above the list of users.
    form = {k: v for k, v in data.items() if k != "password"}

    def context() -> dict:
        return {"users": users.list_users(), "form": form}

    body = parse_form(UserCreate, data, LIST, context)
    with form_errors(LIST, context, status=422):
        users.create_user(body)
    return RedirectResponse("/admin/users?notice=created", status_code=303)


EDITABLE = ("role", "active", "password", "full_name", "email", "timezone", "language")


@pages.get("/{user_id}")
def read_user_edit(request: Request, user_id: int, admin: AdminUser):
    return render(request, EDIT, {"user": users.get_user(user_id), "errors": {}})


@pages.post("/{user_id}")
def update_user_page(request: Request, user_id: int, admin: AdminUser, posted: PostedForm):
    """The list's quick buttons (role, active) and the edit form both post here."""
    # A blank password field means "keep it"; a blank full name is allowed.
    changes = {k: v for k, v in posted.items() if k in EDITABLE and (v != "" or k == "full_name")}
    if "active" in changes:
        changes["active"] = changes["active"] == "true"
    if posted.get("form") == "edit":
        shown = {k: v for k, v in changes.items() if k != "password"}
        refused = form_errors(EDIT, {"user": {**users.get_user(user_id), **shown}})
    else:
        # The list's buttons have no fields of their own: one message above the list.
        refused = form_errors(LIST, lambda: {"users": users.list_users(), "form": {}}, one_message=True)
    with refused:
        users.update_user(user_id, UserUpdate(**changes))
    if posted.get("form") == "edit" and posted.get("language") == "":
        # The form's "hub default": no language of the user's own (an update leaves a blank as it is).
        users.set_language(user_id, None)
    return RedirectResponse("/admin/users?notice=saved", status_code=303)
