"""Reminder pages under /sag: my reminders, global rules and the queue (admins), plus the
bell in the navigation and the JSON the case page's rule editor needs.

Reading is done here with the module's own queries; every change (seen, snooze, acknowledge,
rules ...) goes through the reminder API (`/api/v1/sag/reminders/...`) from the page's script,
so pages and scripts share the API's validation and side effects.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from markupsafe import Markup

from app.core import database
from app.core.deps import AdminUser, CurrentUser
from app.core.errors import ValidationFailed
from app.core.i18n import _, lazy_gettext
from app.core.templating import render, templates
from app.modules.sag.reminders import channels
from app.modules.sag.reminders import destinations as reminder_destinations
from app.modules.sag.reminders import feed as reminder_feed
from app.modules.sag.reminders import kinds as reminder_kinds
from app.modules.sag.reminders import queue as reminders_queue
from app.modules.sag.reminders.feed import Q

router = APIRouter()

PAGE_SIZE = 50
HISTORY_LIMIT = 100
FAILURES_LIMIT = 25
FILTERS = {"all": lazy_gettext("All"), "unread": lazy_gettext("Unread"), "snoozed": lazy_gettext("Snoozed"),
           "held_back": lazy_gettext("Held back"), "open": lazy_gettext("Not done")}
# One inbox: reminders, mentions and watched-case news are all log rows; the kind is the event's.
KINDS = {"all": lazy_gettext("Everything"), "reminder": lazy_gettext("Reminders"),
         "mention": lazy_gettext("Mentions"), "watch": lazy_gettext("Watched cases")}
TRIGGER_TYPES = {
    "status_change": lazy_gettext("Status change"),
    "deadline": lazy_gettext("Before the deadline"),
    "scheduled": lazy_gettext("At a fixed time"),
    "recurring": lazy_gettext("Recurring (cron)"),
    "inactivity": lazy_gettext("No activity for N days"),
}


def trigger_types() -> dict[str, str]:
    """The trigger types' names in the reader's language (also sent to the rule editor as JSON)."""
    return {key: str(label) for key, label in TRIGGER_TYPES.items()}


def bell(request: Request, **_context) -> Markup:
    """The navbar slot: a bell with the live unread count that opens my reminders."""
    user = getattr(request.state, "user", None)
    if user is None:
        return Markup("")
    html = templates.get_template("sag/reminders_bell.html").render(
        request=request, user=user, api=reminder_feed.ACTIONS_API, list_url=reminder_feed.LIST_URL,
        unread=reminder_feed.feed.unread_count(user.id))
    return Markup(html)  # noqa: S704 - rendered by an autoescaping template


@router.get("/reminders")
def read_my_reminders(
    request: Request,
    user: CurrentUser,
    filter: Annotated[Literal["all", "unread", "snoozed", "held_back", "open"], Query()] = "all",
    channel: Annotated[str, Query(pattern=channels.NAME_RE.pattern)] = "in_app",
    case_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    kind: Annotated[Literal["all", "reminder", "mention", "watch"], Query()] = "all",
    group: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="the cases of one grouped reminder")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
):
    known = {n: str(c.label) for n, c in channels.registry().items()}
    if channel != "all" and channel not in known:
        raise ValidationFailed("unknown channel %(channel)r", field="channel", channel=channel)
    params = {"user_id": user.id, "channel": None if channel == "all" else channel, "case_id": case_id,
              "group_id": group, "filter": filter, "kind": None if kind == "all" else kind,
              "limit": PAGE_SIZE + 1, "offset": (page - 1) * PAGE_SIZE}
    rows = database.execute_query(Q["list_my_logs"], params)
    counts = database.execute_query(Q["count_my_logs"], params)[0]
    cases = database.execute_query(Q["my_log_cases"], {"user_id": user.id})
    return render(request, "sag/reminders_mine.html", {
        "rows": rows[:PAGE_SIZE],
        "has_next": len(rows) > PAGE_SIZE, "page": page, "counts": counts, "filters": FILTERS, "kinds": KINDS,
        "channels": {**known, "all": _("All channels")},
        "cases": cases,
        "current": {"filter": filter, "channel": channel, "case_id": case_id, "kind": kind, "group": group},
        "api": reminder_feed.ACTIONS_API,
    })


@router.get("/reminders/rules")
def read_global_rules(request: Request, admin: AdminUser):
    return render(request, "sag/reminders_rules.html", {"trigger_types": trigger_types()})


@router.get("/reminders/queue")
def read_queue(request: Request, admin: AdminUser):
    # The same summary as GET /api/v1/sag/reminders/queue, so page and API always agree.
    summary = reminders_queue.queue_summary()
    return render(request, "sag/reminders_queue.html", {
        "counts": summary["counts"],
        "overview": summary,
        "failures": database.execute_query(Q["queue_failures"], {"limit": FAILURES_LIMIT}),
        "failed_deliveries": database.execute_query(Q["queue_failed_deliveries"], {"limit": FAILURES_LIMIT}),
        "kind_labels": {key: str(kind.label) for key, kind in reminder_kinds.KINDS.items()},
    })


@router.get("/reminders/editor.json")
def read_editor_data(user: CurrentUser) -> dict:
    """Choices for the rule editor's selects."""
    return {
        "statuses": database.execute_query(Q["editor_statuses"]),
        "users": database.execute_query(Q["editor_users"]),
        "calendars": database.execute_query(Q["editor_calendars"]),
        "roles": ["user", "admin"],
        "trigger_types": trigger_types(),
        "timezone": user.timezone,
        "is_admin": user.is_admin,
        "user_id": user.id,
        "destinations": [{"channel": d["channel"], "name": d["name"]}
                         for d in reminder_destinations.list_destinations()],
    }


@router.get("/{case_id:int}/reminders/history.json")
def read_case_reminder_history(case_id: int, user: CurrentUser) -> list[dict]:
    """Every reminder sent about this case (who, which channel, what happened)."""
    rows = database.execute_query(Q["case_history"], {"case_id": case_id, "limit": HISTORY_LIMIT})
    return [reminder_feed.shape(r) for r in rows]


def user_menu(request: Request, **_context) -> Markup:
    """Entries in the user's menu: my notifications (reminders, mentions, watched cases) and preferences."""
    return Markup(  # noqa: S704 - constant markup, translated texts escaped
        '<li><a class="dropdown-item" href="/sag/reminders">%s</a></li>'
        '<li><a class="dropdown-item" href="/me/notifications">%s</a></li>'
    ) % (_("Notifications"), _("Notification preferences"))


def profile(request: Request, **_context) -> Markup:
    """The profile's Notifications card: unread per kind, each a link to the filtered inbox."""
    user = getattr(request.state, "user", None)
    if user is None:
        return Markup("")
    unread = {r["kind"]: r["n"] for r in database.execute_query(Q["my_unread_by_kind"], {"user_id": user.id})}
    html = templates.get_template("sag/notifications_profile.html").render(
        request=request, kinds={k: v for k, v in KINDS.items() if k != "all"}, unread=unread)
    return Markup(html)  # noqa: S704 - rendered by an autoescaping template


def admin_menu(request: Request, **_context) -> Markup:
    """Entries in the admin menu: global reminder rules and the reminder queue."""
    user = getattr(request.state, "user", None)
    if user is None or not user.is_admin:
        return Markup("")
    return Markup(  # noqa: S704 - constant markup, translated texts escaped
        '<li><a class="dropdown-item" href="/sag/reminders/rules">%s</a></li>'
        '<li><a class="dropdown-item" href="/sag/reminders/queue">%s</a></li>'
    ) % (_("Reminder rules"), _("Reminder queue"))
