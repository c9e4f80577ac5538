"""Business-hours calendars in the database: read, create, change, delete, the default one,
and the calendar of a customer. `load(id)` turns a stored calendar into the pure
`businesstime.Calendar` the arithmetic works on."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from app.core import database
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.queries import load_queries
from app.modules.sag.sla import businesstime, spans
from app.modules.sag.sla.models import CalendarIn, CalendarPatch

Q = load_queries(Path(__file__).parent / "queries" / "calendars.sql")


def list_calendars() -> list[dict[str, Any]]:
    return database.execute_query(Q["list_calendars"])


def _days(calendar_id: int) -> tuple[list[dict], list[dict]]:
    closed, special = [], []
    for row in database.execute_query(Q["read_days"], {"id": calendar_id}):
        if row["hours"]:
            special.append({"date": row["day"], "hours": row["hours"], "note": row["note"]})
        else:
            closed.append({"date": row["day"], "note": row["note"]})
    return closed, special


def get_calendar(calendar_id: int) -> dict[str, Any]:
    """A calendar with its closed and special dates and the customers using it."""
    rows = database.execute_query(Q["read_calendar"], {"id": calendar_id})
    if not rows:
        raise NotFound("Calendar %(id)s not found", id=calendar_id)
    cal = rows[0]
    # Every weekday present (empty = closed), so clients need not know which keys may be missing.
    # Not re-validated: the database checked the shape, and a row written by hand with
    # overlapping intervals must still be readable (the arithmetic merges them).
    cal["weekly_hours"] = {d: cal["weekly_hours"].get(d, []) for d in businesstime.WEEKDAYS}
    cal["closed_dates"], cal["special_days"] = _days(calendar_id)
    cal["customers"] = database.execute_query(Q["read_customers"], {"id": calendar_id})
    return cal


def _fields(body: CalendarIn) -> dict[str, Any]:
    return {"name": body.name, "timezone": body.timezone, "country": body.country, "subdivision": body.subdivision,
            "is_default": body.is_default, "weekly_hours": Jsonb(body.weekly_hours.model_dump())}


def _write_days(calendar_id: int, body: CalendarIn) -> None:
    database.execute_update(Q["delete_days"], {"id": calendar_id})
    rows = [{"id": calendar_id, "day": c.date, "hours": Jsonb([]), "note": c.note} for c in body.closed_dates]
    rows += [{"id": calendar_id, "day": s.date, "hours": Jsonb([iv.model_dump() for iv in s.hours]), "note": s.note}
             for s in body.special_days]
    with database.transaction() as conn, conn.cursor() as cur:
        cur.executemany(Q["insert_day"], rows)


def _name_taken(exc: psycopg.errors.UniqueViolation, name: str) -> Conflict:
    if "one_default" in (exc.diag.constraint_name or ""):
        return Conflict("Another calendar became the default at the same time; try again")
    return Conflict("A calendar named '%(name)s' exists already", field="name", name=name)


def create_calendar(body: CalendarIn) -> dict[str, Any]:
    """Store a new calendar; the first one becomes the default whatever `is_default` says."""
    try:
        with database.transaction():
            if not body.is_default and default_calendar_id() is None:
                body = body.model_copy(update={"is_default": True})
            if body.is_default:
                database.execute_update(Q["unset_default"], {"id": 0})
            calendar_id = database.execute_insert(Q["insert_calendar"], _fields(body))
            _write_days(calendar_id, body)
            spans.write_spans(calendar_id, load(calendar_id))
    except psycopg.errors.UniqueViolation as exc:
        raise _name_taken(exc, body.name) from None
    return get_calendar(calendar_id)


def _as_input(cal: dict[str, Any]) -> dict[str, Any]:
    return {k: cal[k] for k in ("name", "timezone", "weekly_hours", "country", "subdivision", "closed_dates",
                                "special_days", "is_default")}


def _validated(fields: dict[str, Any]) -> CalendarIn:
    try:
        return CalendarIn(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'calendar'}: {e['msg']}" for e in exc.errors())
        raise ValidationFailed(problems) from None


def update_calendar(calendar_id: int, patch: CalendarPatch) -> dict[str, Any]:
    """Apply the given fields; the merged calendar is validated as a whole before anything is written."""
    changes = patch.model_dump(exclude_unset=True)
    try:
        with database.transaction():
            current = database.execute_query(Q["lock_calendar"], {"id": calendar_id})
            if not current:
                raise NotFound("Calendar %(id)s not found", id=calendar_id)
            if current[0]["is_default"] and changes.get("is_default") is False:
                raise Conflict("This is the default calendar: make another calendar the default instead",
                               field="is_default")
            merged = _as_input(get_calendar(calendar_id)) | {k: v for k, v in changes.items() if k != "is_default"}
            merged["is_default"] = current[0]["is_default"] or bool(changes.get("is_default"))
            body = _validated(merged)
            database.execute_update(Q["update_calendar"], _fields(body) | {"id": calendar_id})
            if body.is_default and not current[0]["is_default"]:
                database.execute_update(Q["unset_default"], {"id": calendar_id})
                database.execute_update(Q["make_default"], {"id": calendar_id})
            if "closed_dates" in changes or "special_days" in changes:
                _write_days(calendar_id, body)
            spans.write_spans(calendar_id, load(calendar_id))
    except psycopg.errors.UniqueViolation as exc:
        raise _name_taken(exc, merged["name"]) from None
    return get_calendar(calendar_id)


def delete_calendar(calendar_id: int) -> None:
    cal = get_calendar(calendar_id)
    if cal["is_default"]:
        raise Conflict("The default calendar cannot be deleted: make another calendar the default first")
    try:
        deleted = database.execute_query(Q["delete_calendar"], {"id": calendar_id})
    except (psycopg.errors.RestrictViolation, psycopg.errors.ForeignKeyViolation):
        deleted = None  # a customer was given this calendar meanwhile
    if not deleted:
        raise Conflict("Calendar %(id)s is used by customers (%(count)s); give them another calendar first",
                       id=calendar_id, count=len(cal["customers"]))


def default_calendar_id() -> int | None:
    rows = database.execute_query(Q["read_default_id"])
    return rows[0]["id"] if rows else None


def load(calendar_id: int) -> businesstime.Calendar:
    """The stored calendar as the pure value the business-time arithmetic works on."""
    cal = get_calendar(calendar_id)
    overrides: dict[date, tuple[businesstime.Interval, ...]] = {c["date"]: () for c in cal["closed_dates"]}
    for s in cal["special_days"]:
        overrides[s["date"]] = _minutes(s["hours"])
    weekly = tuple(_minutes(cal["weekly_hours"][d]) for d in businesstime.WEEKDAYS)
    return businesstime.Calendar(tz=cal["timezone"], weekly=weekly, overrides=overrides, country=cal["country"],
                                 subdivision=cal["subdivision"])


def _minutes(hours: list[dict[str, str]]) -> tuple[businesstime.Interval, ...]:
    return tuple((businesstime.parse_clock(iv["start"]), businesstime.parse_clock(iv["end"])) for iv in hours)


# --- customers ------------------------------------------------------------------------------

def customer_calendar(customer_id: int) -> dict[str, Any]:
    """{"calendar_id": ..., "own": bool}: the customer's own calendar, else the default one."""
    if not database.execute_query(Q["customer_exists"], {"customer_id": customer_id}):
        raise NotFound("Customer %(id)s not found", id=customer_id)
    row = database.execute_query(Q["customer_calendar_id"], {"customer_id": customer_id})[0]
    if row["id"] is None:
        raise NotFound("There is no default calendar yet; create one (Admin → Calendars)")
    return {"customer_id": customer_id, "calendar_id": row["id"], "own": row["own"]}


def set_customer_calendar(customer_id: int, calendar_id: int) -> dict[str, Any]:
    get_calendar(calendar_id)
    if not database.execute_query(Q["customer_exists"], {"customer_id": customer_id}):
        raise NotFound("Customer %(id)s not found", id=customer_id)
    try:
        database.execute_update(Q["set_customer_calendar"], {"customer_id": customer_id, "calendar_id": calendar_id})
    except psycopg.errors.ForeignKeyViolation:
        # The calendar or the customer was deleted meanwhile.
        raise NotFound("The calendar or the customer no longer exists") from None
    return customer_calendar(customer_id)


def unset_customer_calendar(customer_id: int) -> None:
    if not database.execute_query(Q["unset_customer_calendar"], {"customer_id": customer_id}):
        raise NotFound("Customer %(id)s has no calendar of its own", id=customer_id)


def customer_choices(limit: int) -> list[dict[str, Any]]:
    return database.execute_query(Q["customer_choices"], {"limit": limit})
