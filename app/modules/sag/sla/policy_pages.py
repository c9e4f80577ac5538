"""SLA policy admin pages under /sag/sla/policies: the list, and a form to create, change or
delete a policy. The form posts to these pages (validated by the API's request model)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse
from markupsafe import Markup

from app.core import i18n
from app.core.auth import CSRF_FIELD
from app.core.deps import AdminUser
from app.core.forms import form_errors, parse_form
from app.core.i18n import gettext as _
from app.core.templating import render
from app.modules.sag.sla import calendars, report
from app.modules.sag.sla import policies as store
from app.modules.sag.sla.policy_models import DEFAULT_PAUSE_STATUSES, DEFAULT_WARNING_PERCENT, PolicyIn

router = APIRouter()

CUSTOMER_CHOICES = 1000
FORM = "sag/sla_policy.html"
NEW_POLICY = {"id": None, "name": "", "priority": None, "customer_id": None, "response_minutes": 240,
              "resolution_minutes": 2400, "warning_percent": DEFAULT_WARNING_PERCENT, "calendar_id": None,
              "pause_statuses": list(DEFAULT_PAUSE_STATUSES)}

Id = Annotated[int, PathParam(ge=1, le=2_147_483_647)]


def duration_text(minutes: int) -> str:
    """Working minutes as "2 h 10 m" (hours and minutes; no days, since a working day varies)."""
    return report.minutes_text(minutes)


def status_label(status: dict[str, Any]) -> str:
    """A case status's name in the reader's language (`label_da` for Danish)."""
    return (status.get("label_da") if i18n.get_language() == "da" else None) or status["label"]


def _context(policy: dict[str, Any], errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {"policy": policy, "errors": errors or {}, "statuses": store.statuses(),
            "calendars": calendars.list_calendars(), "customers": calendars.customer_choices(CUSTOMER_CHOICES),
            "priorities": ("low", "normal", "high", "urgent"), "priority_label": store.priority_label}


@router.get("/sla/policies")
def read_policies_page(request: Request, admin: AdminUser):
    rows = store.list_policies()
    labels = {s["key"]: status_label(s) for s in store.statuses()}
    for row in rows:
        row["pause_labels"] = [labels.get(key, key) for key in row["pause_statuses"]]
        row["scope"] = store.scope_text(row)
        row["response_text"] = duration_text(row["response_minutes"])
        row["resolution_text"] = duration_text(row["resolution_minutes"])
    return render(request, "sag/sla_policies.html", {"policies": rows})


@router.get("/sla/policies/new")
def read_new_policy_page(request: Request, admin: AdminUser):
    return render(request, FORM, _context(dict(NEW_POLICY)))


@router.get("/sla/policies/{policy_id}")
def read_policy_page(request: Request, policy_id: Id, admin: AdminUser):
    return render(request, FORM, _context(store.get_policy(policy_id)))


async def _read_posted(request: Request) -> dict[str, Any]:
    """The form as the request model's fields: empty selects are null, the checkboxes a list."""
    form = await request.form()
    data: dict[str, Any] = {k: v.strip() for k, v in form.items()
                            if isinstance(v, str) and k not in (CSRF_FIELD, "pause_statuses")}
    for key in ("priority", "customer_id", "calendar_id"):
        data[key] = data.get(key) or None
    data["pause_statuses"] = [v for v in form.getlist("pause_statuses") if isinstance(v, str)]
    return data


# A dependency, so the handlers that save the form are plain `def` (run in the thread pool).
PostedPolicy = Annotated[dict[str, Any], Depends(_read_posted)]


def _save(policy_id: int | None, data: dict[str, Any]) -> dict[str, Any]:
    context = lambda: _context(data | {"id": policy_id})  # noqa: E731 - built only when refused
    body = parse_form(PolicyIn, data, FORM, context)
    with form_errors(FORM, context):
        return store.create_policy(body) if policy_id is None else store.replace_policy(policy_id, body)


@router.post("/sla/policies/new")
def create_policy_page(request: Request, admin: AdminUser, data: PostedPolicy):
    _save(None, data)
    return RedirectResponse("/sag/sla/policies?notice=saved", status_code=303)


@router.post("/sla/policies/{policy_id}")
def replace_policy_page(request: Request, policy_id: Id, admin: AdminUser, data: PostedPolicy):
    _save(policy_id, data)
    return RedirectResponse("/sag/sla/policies?notice=saved", status_code=303)


@router.post("/sla/policies/{policy_id}/delete")
def delete_policy_page(request: Request, policy_id: Id, admin: AdminUser):
    store.delete_policy(policy_id)
    return RedirectResponse("/sag/sla/policies?notice=deleted", status_code=303)


def admin_menu_items(request: Request) -> Markup:
    """The admin menu's entry for SLA policies."""
    return Markup('<li><a class="dropdown-item" href="/sag/sla/policies">{}</a></li>').format(_("SLA policies"))
