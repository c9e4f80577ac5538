"""Calendar admin pages under /sag/calendars: the list, and one calendar's editor with its next
14 days of opening hours, upcoming holidays and the customers that use it.

The editor saves through the calendar API (`/api/v1/sag/calendars`) from its script, so page
and API share one validation; the page only renders the stored calendar as editable text.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from babel.dates import get_day_names
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from markupsafe import Markup

from app.core import i18n
from app.core.deps import AdminUser
from app.core.i18n import gettext as _
from app.core.templating import render
from app.modules.sag.sla import businesstime
from app.modules.sag.sla import calendars as store
from app.modules.sag.sla.api import day_rows

router = APIRouter()

PREVIEW_DAYS = 14
HOLIDAYS_AHEAD_DAYS = 366
CUSTOMER_CHOICES = 1000
# What a new calendar starts with: Danish office hours with a lunch break.
NEW_CALENDAR = {
    "id": None, "name": "", "timezone": "Europe/Copenhagen", "country": "DK", "subdivision": None,
    "is_default": False, "closed_dates": [], "special_days": [], "customers": [],
    "weekly_hours": {d: ([{"start": "08:00", "end": "12:00"}, {"start": "12:30", "end": "16:00"}]
                         if d in businesstime.WEEKDAYS[:5] else []) for d in businesstime.WEEKDAYS},
}

Id = Annotated[int, PathParam(ge=1, le=2_147_483_647)]


@cache
def _zones() -> list[str]:
    return sorted(available_timezones())


def hours_text(intervals: list[dict[str, str]]) -> str:
    return ", ".join(f"{iv['start']}-{iv['end']}" for iv in intervals)


def _editor_text(cal: dict[str, Any]) -> dict[str, Any]:
    """The calendar as the editor's text fields show it (the script parses the same format)."""
    return {
        "weekly": {d: hours_text(cal["weekly_hours"].get(d, [])) for d in businesstime.WEEKDAYS},
        "closed": "\n".join(f"{c['date'].isoformat()} {c['note']}".rstrip() for c in cal["closed_dates"]),
        "special": "\n".join(f"{s['date'].isoformat()} {hours_text(s['hours'])} {s['note']}".rstrip()
                             for s in cal["special_days"]),
    }


def day_names(width: str = "wide") -> dict[str, str]:
    """{"mon": "Monday", ...} in the reader's language (Babel's: "Mandag" as a label, "man." short)."""
    names = get_day_names(width, locale=i18n.locale_name())
    return {key: names[i].capitalize() if width == "wide" else names[i] for i, key in enumerate(businesstime.WEEKDAYS)}


def _weekly_summary(weekly: dict[str, list]) -> str:
    short = day_names("abbreviated")
    parts = [f"{short[d]} {hours_text(weekly[d])}" for d in businesstime.WEEKDAYS if weekly.get(d)]
    return "; ".join(parts) or _("always closed")


@router.get("/calendars")
def read_calendars_page(request: Request, admin: AdminUser):
    rows = store.list_calendars()
    for row in rows:
        row["summary"] = _weekly_summary(row["weekly_hours"])
    return render(request, "sag/sla_calendars.html", {"calendars": rows})


def _editor(request: Request, cal: dict[str, Any]):
    preview, holidays = [], []
    if cal["id"] is not None:
        value = store.load(cal["id"])
        today = datetime.now(value.zone).date()
        # Holiday names in the reader's language where the holidays package has them.
        language = businesstime.holiday_language(value.country, i18n.get_language())
        preview = day_rows(value, today, PREVIEW_DAYS)
        for row in preview:
            if row["holiday"]:
                row["holiday"] = value.holiday(row["date"], language)
        holidays = [{"date": d, "name": n, "open_anyway": bool(value.hours_on(d))}
                    for d, n in value.holidays_between(today, today + timedelta(days=HOLIDAYS_AHEAD_DAYS), language)]
    return render(request, "sag/sla_calendar.html", {
        "cal": cal, "text": _editor_text(cal), "day_labels": day_names(), "zones": _zones(), "preview": preview,
        "holidays": holidays, "customer_choices": store.customer_choices(CUSTOMER_CHOICES) if cal["id"] else [],
    })


@router.get("/calendars/new")
def read_new_calendar_page(request: Request, admin: AdminUser):
    # The first calendar becomes the default in any case; the form says so.
    return _editor(request, dict(NEW_CALENDAR) | {"is_default": store.default_calendar_id() is None})


@router.get("/calendars/{calendar_id}")
def read_calendar_page(request: Request, calendar_id: Id, admin: AdminUser):
    return _editor(request, store.get_calendar(calendar_id))


def admin_menu_items(request: Request) -> Markup:
    """The admin menu's entry for calendars."""
    label = _("Business-hours calendars")
    return Markup('<li><a class="dropdown-item" href="/sag/calendars">{}</a></li>').format(label)
