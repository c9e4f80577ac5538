"""Case pages under /sag: the list, a case, and the create/edit forms.

Forms post back to the same address (CSRF field `csrf_token`) and redirect on success;
on a validation error or a concurrent change the form is shown again with the messages
and what the user typed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from app.core import database
from app.core.deps import AdminUser, CurrentUser
from app.core.errors import ValidationFailed
from app.core.forms import PostedForm, form_errors, parse_form
from app.core.i18n import lazy_gettext
from app.core.templating import render
from app.modules.sag.cases import store as cases
from app.modules.sag.cases.listing import SLA_STATES, SORTS, CaseFilter, search_cases
from app.modules.sag.cases.store import Assignment, CaseCreate, CaseUpdate, StatusChange
from app.modules.sag.conversation import timeline, watchers
from app.modules.sag.sla import clock_view

router = APIRouter()

FORM = "sag/case_form.html"
DETAIL = "sag/case_detail.html"
DELETE = "sag/case_delete.html"

LIST_PAGE_SIZE = 25
FILTER_KEYS = ("q", "status", "state", "assignee", "customer_id", "priority", "overdue", "due", "sla", "sort")
# The default view (no filters in the address): my open cases, soonest deadline first.
DEFAULT_VIEW = {"state": "open", "assignee": "me", "sort": "deadline"}
# Saved views: (name, filters); the names are shown in the reader's language.
VIEWS = [
    (lazy_gettext("My open cases"), {"state": "open", "assignee": "me", "sort": "deadline"}),
    (lazy_gettext("Unassigned"), {"state": "open", "assignee": "none", "sort": "-created"}),
    (lazy_gettext("Overdue"), {"state": "open", "assignee": "any", "overdue": "1", "sort": "deadline"}),
    (lazy_gettext("Due within 24 h"), {"state": "open", "assignee": "any", "due": "24", "sort": "deadline"}),
    (lazy_gettext("All open"), {"state": "open", "assignee": "any", "sort": "-updated"}),
    (lazy_gettext("All cases"), {"state": "all", "assignee": "any", "sort": "-updated"}),
]
EDIT_FIELDS = ("title", "description", "customer_id", "priority", "assigned_to", "deadline")
NULLABLE_FIELDS = ("customer_id", "assigned_to", "deadline")


def _int_or_error(value: str, field: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise ValidationFailed("%(name)s must be a positive whole number", field=field, name=field)
    return int(value)


def _filters_from(request: Request) -> dict[str, str]:
    params = request.query_params
    if not any(k in params for k in FILTER_KEYS):
        return dict(DEFAULT_VIEW)
    return {k: params.get(k, "")[:200] for k in FILTER_KEYS if params.get(k, "")}


def _case_filter(values: dict[str, str]) -> CaseFilter:
    due = _int_or_error(values.get("due", ""), "due")
    return CaseFilter(
        statuses=[values["status"]] if values.get("status") else [],
        state=values.get("state") or "all",
        assignee=values.get("assignee") or None,
        customer_id=_int_or_error(values.get("customer_id", ""), "customer_id"),
        priorities=[values["priority"]] if values.get("priority") else [],
        overdue=True if values.get("overdue") in ("1", "true", "on") else None,
        due_within_hours=due,
        q=values.get("q") or None,
        sla_states=[values["sla"]] if values.get("sla") else [],
    )


def _form_choices(include_customer: int | None = None, include_user: int | None = None) -> dict[str, Any]:
    return {"statuses": cases.statuses(), "users": cases.assignable_users(include_user),
            "customers": cases.customer_choices(include_customer), "priorities": cases.PRIORITIES}


@router.get("")
def read_case_list(request: Request, user: CurrentUser, page: int = 1):
    values = _filters_from(request)
    sort = values.get("sort") or "-updated"
    if sort not in SORTS:
        raise ValidationFailed("Unknown sort '%(sort)s'", field="sort", sort=sort)
    page = max(1, min(page, 100_000))
    result = search_cases(_case_filter(values), user.id, page, LIST_PAGE_SIZE, sort)
    views = [(str(label), urlencode(v), all(values.get(k, "") == x for k, x in v.items())
              and set(values) <= set(v)) for label, v in VIEWS]
    return render(request, "sag/case_list.html", {
        "result": result, "filters": values, "views": views, "sort": sort, "sorts": list(SORTS),
        "query": urlencode({k: v for k, v in values.items() if k != "sort"}),
        "query_with_sort": urlencode(values), "sla_states": SLA_STATES,
        **_form_choices(_int_or_error(values.get("customer_id", ""), "customer_id")),
    })


# --- create -------------------------------------------------------------------------------

def _form_values(data: dict[str, Any]) -> dict[str, Any]:
    """Form strings -> model input: blank optional fields mean "none"."""
    values = {k: v for k, v in data.items() if k in (*EDIT_FIELDS, "status", "version")}
    for key in NULLABLE_FIELDS:
        if key in values and str(values[key]).strip() == "":
            values[key] = None
    return values


@router.get("/new")
def read_case_create(request: Request, user: CurrentUser):
    preset: dict[str, Any] = {"priority": "normal", "status": "new", "assigned_to": user.id}
    customer = request.query_params.get("customer_id", "")
    if customer.isdigit():
        preset["customer_id"] = int(customer)
    return render(request, FORM,
                  {"case": preset, "errors": {}, "is_new": True,
                   **_form_choices(preset.get("customer_id"))})


@router.post("/new")
def create_case_page(request: Request, user: CurrentUser, data: PostedForm):
    def context() -> dict[str, Any]:
        return {"case": data, "is_new": True, **_form_choices(_int_or_none(data.get("customer_id")))}

    body = parse_form(CaseCreate, _form_values(data), FORM, context)
    with form_errors(FORM, context):
        created = cases.create_case(body, user.id, user.timezone)
    return RedirectResponse(f"/sag/{created['id']}?notice=created", status_code=303)


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() and int(value) < 2**31 else None


# --- one case -----------------------------------------------------------------------------

def _case_context(case_id: int, timeline_page: int = 1) -> dict[str, Any]:
    case = cases.get_case_with_history(case_id)
    statuses = cases.statuses()
    keys = [s["key"] for s in statuses]
    # The status control offers the next step in the usual order first.
    at = keys.index(case["status"]) if case["status"] in keys else -1
    later = keys[at + 1:] or [k for k in keys if k != case["status"]]
    return {
        "case": case, "history": case["history"], "statuses": statuses,
        "next_status": later[0] if later else None, "users": cases.assignable_users(case["assigned_to"]),
        "errors": {}, "sla_clocks": clock_view.page_payload(clock_view.case_clocks(case_id)),
        **timeline.page_context(case_id, timeline_page),
    }


def _case_actions_refused(case_id: int):
    """The status and assign controls have no fields of their own: a refusal is one message
    above the case page."""
    return form_errors(DETAIL, lambda: _case_context(case_id), one_message=True)


@router.get("/{case_id:int}")
def read_case_page(request: Request, case_id: int, user: CurrentUser, timeline: int = 1):
    # The page's reads share one transaction (one pooled connection, one BEGIN/COMMIT instead of
    # one per query): with a million cases each read takes a fraction of a millisecond, and the
    # page's time was the round trips around them (docs/performance.md).
    with database.transaction():
        context = {**_case_context(case_id, max(1, min(timeline, 1_000_000))),
                   "watch": watchers.page_state(case_id, user.id)}
    return render(request, DETAIL, context)


@router.post("/{case_id:int}/status")
def change_case_status_page(request: Request, case_id: int, user: CurrentUser, data: PostedForm):
    with _case_actions_refused(case_id):
        change = StatusChange(status=data.get("status", ""), note=data.get("note") or None,
                              expected_status=data.get("expected_status") or None)
        cases.change_status(case_id, change)
    return RedirectResponse(f"/sag/{case_id}?notice=saved", status_code=303)


@router.post("/{case_id:int}/assign")
def assign_case_page(request: Request, case_id: int, user: CurrentUser, data: PostedForm):
    raw = (data.get("user_id") or "").strip()
    with _case_actions_refused(case_id):
        target = user.id if raw == "me" else _int_or_error(raw, "user_id")
        cases.assign_case(case_id, Assignment(user_id=target))
    return RedirectResponse(f"/sag/{case_id}?notice=saved", status_code=303)


# --- edit ---------------------------------------------------------------------------------

@router.get("/{case_id:int}/edit")
def read_case_edit(request: Request, case_id: int, user: CurrentUser):
    case = cases.get_case(case_id)
    return render(request, FORM,
                  {"case": case, "errors": {}, "is_new": False,
                   **_form_choices(case["customer_id"], case["assigned_to"])})


def _differences(mine: dict[str, Any], saved: dict[str, Any]) -> dict[str, Any]:
    """Fields where the saved case differs from what the user submitted (for the conflict view)."""
    diff: dict[str, Any] = {}
    for key in ("title", "description", "customer_id", "priority", "assigned_to"):
        theirs = saved.get(key)
        ours = mine.get(key)
        if str(ours if ours is not None else "").strip() != str(theirs if theirs is not None else "").strip():
            diff[key] = theirs
    return diff


@router.post("/{case_id:int}/edit")
def update_case_page(request: Request, case_id: int, user: CurrentUser, data: PostedForm):
    current = cases.get_case(case_id)
    values = _form_values(data)

    def context(posted_version: int | None = None) -> dict[str, Any]:
        saved = cases.get_case(case_id)
        # The form was based on an older version than the saved one: show what changed beside
        # the fields; saving again from there is a deliberate overwrite of those changes.
        # (Validation refusals pass no version: they come before the case is compared.)
        conflict = posted_version is not None and posted_version != saved["version"]
        shown = {**current, **data, "id": case_id}
        if conflict:
            shown["version"] = saved["version"]
        return {"case": shown, "is_new": False, "conflict": conflict,
                "current": _differences(data, saved) if conflict else {}, "saved": saved,
                **_form_choices(_int_or_none(data.get("customer_id")), _int_or_none(data.get("assigned_to")))}

    body = parse_form(CaseUpdate, {k: v for k, v in values.items() if k in (*EDIT_FIELDS, "version")},
                      FORM, context)
    with form_errors(FORM, lambda: context(body.version)):
        cases.update_case(case_id, body, None, user.timezone)
    return RedirectResponse(f"/sag/{case_id}?notice=saved", status_code=303)


# --- delete (administrators) ----------------------------------------------------------------

@router.get("/{case_id:int}/delete")
def read_case_delete(request: Request, case_id: int, user: AdminUser):
    return render(request, DELETE, {"case": cases.get_case(case_id), "errors": {}})


@router.post("/{case_id:int}/delete")
def delete_case_page(request: Request, case_id: int, user: AdminUser):
    with form_errors(DELETE, lambda: {"case": cases.get_case(case_id)}, one_message=True):
        cases.delete_case(case_id)
    return RedirectResponse("/sag?notice=deleted", status_code=303)
