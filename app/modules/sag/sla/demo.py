"""Demo calendar for `bmc-hub demo`: Danish office hours as the default calendar."""

from __future__ import annotations

import logging
from datetime import date

from app.core import database
from app.modules.sag.sla import calendars
from app.modules.sag.sla.models import CalendarIn

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


def run(progress, task) -> None:
    created = demo_calendar()
    log.info("demo: %s", f"calendar {DEMO_CALENDAR!r} created" if created else "demo calendar exists already")
