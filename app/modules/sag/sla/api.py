"""Calendar API under /api/v1/sag/calendars: anyone signed in reads, administrators write."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam

from app.core.deps import AdminUser, CurrentUser
from app.core.errors import ValidationFailed
from app.modules.sag.sla import businesstime
from app.modules.sag.sla import calendars as store
from app.modules.sag.sla.models import MAX_YEAR, MIN_YEAR, CalendarIn, CalendarPatch, CustomerCalendar

router = APIRouter(prefix="/calendars", tags=["sag calendars"])

MAX_SCHEDULE_DAYS = 366
DEFAULT_SCHEDULE_DAYS = 14
MAX_HOLIDAY_SPAN_DAYS = 3 * 366

Id = Annotated[int, PathParam(ge=1, le=2_147_483_647)]
From = Annotated[date | None, Query(alias="from", description="First local date (default: today in the "
                                                               "calendar's zone)")]


def _first_day(cal: businesstime.Calendar, first: date | None) -> date:
    first = first or datetime.now(cal.zone).date()
    if not MIN_YEAR <= first.year <= MAX_YEAR:
        raise ValidationFailed("from must be between %(min)s and %(max)s", field="from", min=MIN_YEAR, max=MAX_YEAR)
    return first


def day_rows(cal: businesstime.Calendar, first: date, days: int) -> list[dict[str, Any]]:
    clock = businesstime.format_clock
    return [{"date": d.day, "weekday": businesstime.WEEKDAYS[d.day.weekday()], "reason": d.reason,
             "holiday": d.holiday, "hours": [{"start": clock(s), "end": clock(e)} for s, e in d.intervals],
             "hours_text": d.hours_text}
            for d in businesstime.schedule(cal, first, days)]


@router.get("")
def read_calendars(user: CurrentUser) -> list[dict[str, Any]]:
    """Every calendar (the default first) with how many customers have it as their own."""
    return store.list_calendars()


@router.post("", status_code=201)
def create_calendar(body: CalendarIn, admin: AdminUser, response: Response) -> dict[str, Any]:
    cal = store.create_calendar(body)
    response.headers["Location"] = f"/api/v1/sag/calendars/{cal['id']}"
    return cal


@router.get("/{calendar_id}")
def read_calendar(calendar_id: Id, user: CurrentUser) -> dict[str, Any]:
    """A calendar with its weekly hours, closed and special dates and the customers using it."""
    return store.get_calendar(calendar_id)


@router.patch("/{calendar_id}")
def update_calendar(calendar_id: Id, body: CalendarPatch, admin: AdminUser) -> dict[str, Any]:
    """Change the fields given; `closed_dates` / `special_days` replace the stored lists."""
    return store.update_calendar(calendar_id, body)


@router.delete("/{calendar_id}", status_code=204)
def delete_calendar(calendar_id: Id, admin: AdminUser) -> None:
    """Delete a calendar; refused (409) for the default one and one that customers use."""
    store.delete_calendar(calendar_id)


@router.get("/{calendar_id}/schedule")
def read_schedule(calendar_id: Id, user: CurrentUser, first: From = None,
                  days: Annotated[int, Query(ge=1, le=MAX_SCHEDULE_DAYS)] = DEFAULT_SCHEDULE_DAYS) -> dict[str, Any]:
    """Opening hours of each local date from `from` on, with the reason (weekly, special,
    closed, holiday) and the holiday's name."""
    cal = store.load(calendar_id)
    first = _first_day(cal, first)
    return {"calendar_id": calendar_id, "timezone": cal.tz, "days": day_rows(cal, first, days)}


@router.get("/{calendar_id}/holidays")
def read_holidays(calendar_id: Id, user: CurrentUser, first: From = None,
                  days: Annotated[int, Query(ge=1, le=MAX_HOLIDAY_SPAN_DAYS)] = 366) -> list[dict[str, Any]]:
    """Public holidays of the calendar's country in the `days` from `from` on."""
    cal = store.load(calendar_id)
    first = _first_day(cal, first)
    return [{"date": d, "name": name, "open_anyway": bool(cal.hours_on(d))}
            for d, name in cal.holidays_between(first, first + timedelta(days=days - 1))]


@router.get("/customers/{customer_id}")
def read_customer_calendar(customer_id: Id, user: CurrentUser) -> dict[str, Any]:
    """The calendar a customer's cases run on: its own, else the default (`own` says which)."""
    return store.customer_calendar(customer_id)


@router.put("/customers/{customer_id}")
def set_customer_calendar(customer_id: Id, body: CustomerCalendar, admin: AdminUser) -> dict[str, Any]:
    """Give a customer its own calendar."""
    return store.set_customer_calendar(customer_id, body.calendar_id)


@router.delete("/customers/{customer_id}", status_code=204)
def unset_customer_calendar(customer_id: Id, admin: AdminUser) -> None:
    """The customer goes back to the default calendar."""
    store.unset_customer_calendar(customer_id)
