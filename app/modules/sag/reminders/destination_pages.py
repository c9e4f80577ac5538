"""Destination admin pages under /sag/reminders/destinations: the list, a form to create or change
one, its latest deliveries, "Send test message" and delete. Forms post here (validated by the
API's request models); the URL field is always empty: a saved URL is never shown again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse
from markupsafe import Markup

from app.core.deps import AdminUser
from app.core.forms import PostedForm, form_errors, parse_form
from app.core.i18n import _
from app.core.templating import render
from app.modules.sag.reminders import destinations as store
from app.modules.sag.reminders.destinations import DestinationIn, DestinationPatch

router = APIRouter()

LIST = "sag/reminders_destinations.html"
FORM = "sag/reminders_destination.html"
NEW = {"id": None, "name": "", "slug": None, "channel": None, "url_scheme": None, "url_host": None, "rules": []}

Id = Annotated[int, PathParam(ge=1, le=2_147_483_647)]


def _context(dest: dict[str, Any], **extra: Any) -> dict[str, Any]:
    deliveries = store.recent_deliveries(dest["slug"]) if dest.get("slug") else []
    return {"dest": dest, "deliveries": deliveries, "errors": {}, "test": None, **extra}


@router.get("/reminders/destinations")
def read_destinations_page(request: Request, admin: AdminUser):
    return render(request, LIST, {"destinations": store.list_destinations()})


@router.get("/reminders/destinations/new")
def read_new_destination_page(request: Request, admin: AdminUser):
    return render(request, FORM, _context(dict(NEW)))


@router.get("/reminders/destinations/{destination_id}")
def read_destination_page(request: Request, destination_id: Id, admin: AdminUser):
    return render(request, FORM, _context(store.get_destination(destination_id)))


@router.post("/reminders/destinations/new")
def create_destination_page(request: Request, admin: AdminUser, data: PostedForm):
    context = lambda: _context(dict(NEW, name=data.get("name", "")))  # noqa: E731 - built only when refused
    body = parse_form(DestinationIn, data, FORM, context)
    with form_errors(FORM, context):
        dest = store.create_destination(body)
    return RedirectResponse(f"/sag/reminders/destinations/{dest['id']}?notice=saved", status_code=303)


@router.post("/reminders/destinations/{destination_id}")
def update_destination_page(request: Request, destination_id: Id, admin: AdminUser, data: PostedForm):
    current = store.get_destination(destination_id)
    context = lambda: _context(dict(current, name=data.get("name", "")))  # noqa: E731 - built only when refused
    # An empty URL field keeps the stored URL (it is never shown, so the field always starts empty).
    body = parse_form(DestinationPatch, {"name": data.get("name", ""), "url": data.get("url") or None}, FORM, context)
    with form_errors(FORM, context):
        store.update_destination(destination_id, body)
    return RedirectResponse(f"/sag/reminders/destinations/{destination_id}?notice=saved", status_code=303)


@router.post("/reminders/destinations/{destination_id}/test")
def send_test_page(request: Request, destination_id: Id, admin: AdminUser):
    error = store.send_test(destination_id, admin.display_name)
    dest = store.get_destination(destination_id)
    return render(request, FORM, _context(dest, test={"sent": error is None, "error": error}))


@router.post("/reminders/destinations/{destination_id}/delete")
def delete_destination_page(request: Request, destination_id: Id, admin: AdminUser):
    dest = store.get_destination(destination_id)
    with form_errors(FORM, lambda: _context(dest), one_message=True):
        store.delete_destination(destination_id)
    return RedirectResponse("/sag/reminders/destinations?notice=deleted", status_code=303)


def admin_menu_items(request: Request) -> Markup:
    """The admin menu's entry for destinations."""
    return Markup(  # noqa: S704 - constant markup, the translated text escaped
        '<li><a class="dropdown-item" href="/sag/reminders/destinations">%s</a></li>') % _("Reminder destinations")
