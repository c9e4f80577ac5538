"""SLA demo for `bmc-hub demo`: Danish office hours as the default calendar, two policies
("Standard" for every case, "Premium (urgent)" for urgent ones), and after the demo cases a few
cases placed in working time so that every SLA state shows: ok, warning, breached, met, paused."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from app.core import database
from app.modules.sag.sla import businesstime, calendars, policies
from app.modules.sag.sla.models import CalendarIn
from app.modules.sag.sla.policy_models import PolicyIn

log = logging.getLogger("app.modules.sag")

DEMO_CALENDAR = "Denmark (office hours)"
LUNCH_BREAK = [{"start": "08:00", "end": "12:00"}, {"start": "12:30", "end": "16:00"}]
FRIDAY = [{"start": "08:00", "end": "12:00"}, {"start": "12:30", "end": "15:30"}]
# Days many Danish offices close although they are not public holidays (month, day, note).
CUSTOM_CLOSED = ((6, 5, "Constitution Day"), (12, 24, "Christmas Eve"), (12, 31, "New Year's Eve"))


def demo_calendar(today: date | None = None) -> int | None:
    """Create the demo calendar (the default one unless a default exists); its id, or None when it existed."""
    if database.execute_query("SELECT 1 FROM sag_calendars WHERE lower(name) = lower(%s)", (DEMO_CALENDAR,)):
        return None
    today = today or date.today()
    closed = [{"date": date(year, month, day), "note": note}
              for year in (today.year, today.year + 1) for month, day, note in CUSTOM_CLOSED]
    body = CalendarIn(
        name=DEMO_CALENDAR, timezone="Europe/Copenhagen", country="DK",
        weekly_hours={"mon": LUNCH_BREAK, "tue": LUNCH_BREAK, "wed": LUNCH_BREAK, "thu": LUNCH_BREAK, "fri": FRIDAY},
        closed_dates=closed,
        special_days=[{"date": date(year, 12, 23), "hours": [{"start": "08:00", "end": "12:00"}], "note": "Half day"}
                      for year in (today.year, today.year + 1)],
        is_default=calendars.default_calendar_id() is None,
    )
    return calendars.create_calendar(body)["id"]


# (name, priority, response, resolution working minutes)
DEMO_POLICIES = (("Standard", None, 240, 960), ("Premium (urgent)", "urgent", 30, 240))
SLA_CASE_PREFIX = "SLA demo:"
# Each state's demo case: (state, title, priority, age in working minutes, [(working minutes after
# creation, status)]). Ages are against the Standard targets (response 240, resolution 960).
SLA_CASES = (
    ("ok", "new laptop for the reception", "normal", 30, []),
    ("warning", "shared mailbox not syncing", "normal", 200, []),
    ("breached", "VPN drops every ten minutes", "high", 300, []),
    ("met", "printer driver on the new PCs", "normal", 900, [(20, "in_progress"), (120, "resolved")]),
    ("paused", "quote for a new firewall", "normal", 90, [(10, "in_progress"), (40, "waiting_customer")]),
)


def demo_policies() -> int:
    """The two demo policies unless any policy exists; how many were created."""
    if policies.list_policies():
        return 0
    for name, priority, response, resolution in DEMO_POLICIES:
        policies.create_policy(PolicyIn(name=name, priority=priority, response_minutes=response,
                                        resolution_minutes=resolution))
    return len(DEMO_POLICIES)


def demo_sla_cases(now: datetime | None = None) -> int:
    """One case per SLA state unless they exist; how many were added. (The other demo cases'
    clocks are recomputed by cases/demo.py after it back-dates their histories: recomputing every
    case here would cost minutes once `--cases` generated a million.)"""
    cal_id = calendars.default_calendar_id()
    if cal_id is None or database.execute_query("SELECT 1 FROM sag_sager WHERE title LIKE %s LIMIT 1",
                                                (SLA_CASE_PREFIX + "%",)):
        return 0
    cal = calendars.load(cal_id)
    now = now or datetime.now(UTC)
    user = database.execute_query("SELECT id FROM users WHERE active ORDER BY role = 'admin', id LIMIT 1")
    creator = user[0]["id"] if user else None
    with database.transaction():
        for _state, title, priority, age, steps in SLA_CASES:
            created = businesstime.add_working_minutes(cal, now, -age)
            case_id = database.execute_insert(
                "INSERT INTO sag_sager (title, description, priority, created_by, assigned_to) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (f"{SLA_CASE_PREFIX} {title}", "A demo case placed so that its SLA clock shows this state.",
                 priority, creator, creator))
            times = [created]
            for minutes, status in steps:
                database.execute_update("UPDATE sag_sager SET status = %s WHERE id = %s", (status, case_id))
                times.append(businesstime.add_working_minutes(cal, created, minutes))
            history = database.execute_query("SELECT id FROM sag_status_history WHERE sag_id = %s ORDER BY id",
                                             (case_id,))
            for row, at in zip(history, times, strict=True):
                database.execute_update("UPDATE sag_status_history SET changed_at = %s, created_at = %s "
                                        "WHERE id = %s", (at, at, row["id"]))
            database.execute_update("UPDATE sag_sager SET created_at = %s, closed_at = CASE WHEN closed_at IS NOT "
                                    "NULL THEN %s END WHERE id = %s", (created, times[-1], case_id))
            database.execute_query("SELECT sag_sla_refresh(%s)", (case_id,))
    return len(SLA_CASES)


def run(progress, task) -> None:
    """The calendar and the policies (before the demo cases, so they get clocks)."""
    created = demo_calendar()
    log.info("demo: %s", f"calendar {DEMO_CALENDAR!r} created" if created else "demo calendar exists already")
    log.info("demo: %d SLA policies created", demo_policies())


def run_cases(progress, task) -> None:
    """After the demo cases: one case per SLA state."""
    log.info("demo: %d SLA demo cases created", demo_sla_cases())
