"""A calendar's open spans written to `sag_calendar_spans`, with running totals of open time,
so that PostgreSQL adds working minutes with two index lookups (sla/functions/
sag_working_time.sql) and the SLA triggers keep due times exact. Written whenever a calendar
is saved, in the same transaction (the holidays come from Python, so the database cannot
expand a calendar itself), and kept far enough ahead by the `calendar_spans` job."""

from __future__ import annotations

import logging
import threading
from datetime import date
from pathlib import Path

from app.core import database
from app.core.queries import load_queries
from app.modules.sag.sla import businesstime

Q = load_queries(Path(__file__).parent / "queries" / "spans.sql")
log = logging.getLogger("app.modules.sag")

# The stored years: from this many years before the current one (a case opened earlier counts
# from the first stored span) to this many after it (a due time beyond is unknown, NULL).
SPAN_YEARS_BACK = 2
SPAN_YEARS_AHEAD = 6
# Calendars whose spans end sooner than this many years ahead (or have none) are written again.
SPAN_YEARS_MIN_AHEAD = 3
# How often the job looks for such calendars (seconds).
SPAN_CHECK_INTERVAL_S = 6 * 3600


def span_rows(cal: businesstime.Calendar, first_year: int, last_year: int) -> list[tuple]:
    """(start, end, open seconds before, open seconds through) of every span in those local years."""
    rows, running = [], 0
    for year in range(first_year, last_year + 1):
        tl = cal.timeline(year)
        for start, end in zip(tl.starts, tl.ends, strict=True):
            seconds = round((end - start).total_seconds())
            rows.append((start, end, running, running + seconds))
            running += seconds
    return rows


def write_spans(calendar_id: int, cal: businesstime.Calendar, today: date | None = None) -> int:
    """Replace the calendar's stored spans; the statement triggers recompute its open cases."""
    today = today or date.today()
    rows = span_rows(cal, today.year - SPAN_YEARS_BACK, today.year + SPAN_YEARS_AHEAD)
    with database.transaction() as conn, conn.cursor() as cur:
        # The delete's trigger skips recomputing (the COPY's trigger does it once, with the new spans).
        cur.execute(Q["mark_rewrite"], {"on": "on"})
        cur.execute(Q["delete_spans"], {"id": calendar_id})
        cur.execute(Q["mark_rewrite"], {"on": ""})
        with cur.copy(Q["copy_spans"]) as copy:
            for row in rows:
                copy.write_row((calendar_id, *row))
    return len(rows)


def stale_calendars(today: date | None = None) -> list[int]:
    """Calendars with no spans, or none far enough ahead."""
    today = today or date.today()
    rows = database.execute_query(Q["stale_calendars"], {"until": date(today.year + SPAN_YEARS_MIN_AHEAD, 1, 1)})
    return [row["id"] for row in rows]


def refresh_stale(today: date | None = None) -> list[int]:
    """Write the spans of the stale calendars again; their ids."""
    from app.modules.sag.sla import calendars  # calendars imports this module

    stale = stale_calendars(today)
    for calendar_id in stale:
        with database.transaction():
            write_spans(calendar_id, calendars.load(calendar_id), today)
        log.info("calendar %s: working-time spans written again", calendar_id)
    return stale


def run(stop: threading.Event) -> None:
    """The job declared in module.json: write the spans of stale calendars now and then."""
    while not stop.is_set():
        refresh_stale()
        stop.wait(SPAN_CHECK_INTERVAL_S)
