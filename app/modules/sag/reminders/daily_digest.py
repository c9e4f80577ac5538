"""The daily digest: one e-mail per opted-in user and working day, at the user's local time.

It lists the user's open cases that are overdue or due today, unassigned open cases (when the
user asked for them), and unread reminders (mentions included: they are reminder rows too),
each with a link. Nothing to report = no e-mail.

Driven by the reminder worker (worker.py calls `run_due` every `DIGEST_CHECK_S`). Exactly once
per user and local date: a row of `sag_digest_runs` keyed on (user, local date) is claimed
before the e-mail is built (a second worker's claim returns nothing); a failure is recorded on
the row (attempts, last_error) and retried with the reminders' back-off; a worker that died
while sending leaves a lease that runs out. Only today's digest is ever considered: a worker
that was down at 07:30 sends it when it comes back the same day; a missed earlier day is not
sent late. Working days are those of the default calendar (sag_calendars.is_default; holidays
and closed dates included), Monday to Friday when there is none.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from app.core import formats, i18n, mail
from app.core.config import get_settings
from app.core.i18n import _, ngettext
from app.core.queries import load_queries
from app.modules.sag.reminders.email import _env, _format_time, _status_label, recipient_language, speaking
from app.modules.sag.reminders.events import error_text
from app.modules.sag.sla import calendars

log = logging.getLogger("app.modules.sag")
Q = load_queries(Path(__file__).parent / "queries" / "daily_digest.sql")
DIGEST_CHECK_S = 30.0    # how often a worker looks for digests that are due (seconds)
SECTION_MAX_ITEMS = 25   # items listed per section; the rest is counted
LEASE_S = 300.0          # a worker that died while sending a digest gives it up after this long
WEEKDAYS_ONLY = (0, 1, 2, 3, 4)  # working days without a default calendar: Monday to Friday


def working_day(day: date) -> bool:
    """Whether `day` is a working day of the default calendar (Monday-Friday without one)."""
    calendar_id = calendars.default_calendar_id()
    if calendar_id is None:
        return day.weekday() in WEEKDAYS_ONLY
    return bool(calendars.load(calendar_id).hours_on(day))


def run_due(conn: psycopg.Connection, opts: Any, now: datetime) -> int:
    """Send every digest that is due at `now`; returns how many went out."""
    with conn.transaction():
        due = conn.execute(Q["due_users"], {"now": now}).fetchall()
    sent = 0
    days: dict[date, bool] = {}
    for user in due:
        day = user["local_date"]
        if day not in days:
            days[day] = working_day(day)
        if not days[day]:
            with conn.transaction():
                conn.execute(Q["skip_day"], {"user_id": user["user_id"], "local_date": day, "now": now})
            continue
        with conn.transaction():
            run = conn.execute(Q["claim_run"], {"user_id": user["user_id"], "local_date": day, "now": now,
                                                "worker": opts.worker_id, "lease_s": LEASE_S}).fetchone()
        if run is not None:  # None: another worker has it, or it is done
            sent += send_one(conn, opts, run, user, now)
    return sent


def send_one(conn: psycopg.Connection, opts: Any, run: dict[str, Any], user: dict[str, Any], now: datetime) -> int:
    """Build and send one claimed digest; the outcome is recorded on its run row."""
    try:
        with conn.transaction():
            content = collect(conn, user["user_id"], user["timezone"], user["include_unassigned"], now)
            recipient = conn.execute(Q["read_recipient"], {"user_id": user["user_id"]}).fetchone()
        if not content["count"]:
            with conn.transaction():
                conn.execute(Q["finish_run"], {"id": run["id"], "status": "empty", "items": 0, "now": now})
            return 0
        error = mail.send_message(message(recipient, content, user["local_date"]))
    except Exception as exc:  # noqa: BLE001 - one user's digest must not stop the others
        log.exception("daily digest for user %s failed", user["user_id"])
        conn.rollback()
        error = f"{type(exc).__name__}: {exc}"
    with conn.transaction():
        if error is None:
            conn.execute(Q["finish_run"], {"id": run["id"], "status": "sent", "items": content["count"], "now": now})
            return 1
        status = conn.execute(Q["fail_run"], {
            "id": run["id"], "error": error_text(str(error)), "now": now, "max_attempts": opts.max_attempts,
            "base_backoff_s": opts.retry_base_s, "max_backoff_s": opts.retry_max_s}).fetchone()["status"]
    log.warning("daily digest for user %s: %s (%s)", user["user_id"], error, status)
    return 0


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - a bad stored zone falls back to the hub's
        return ZoneInfo(get_settings().timezone)


def collect(conn: psycopg.Connection, user_id: int, tz: str, include_unassigned: bool,
            now: datetime) -> dict[str, Any]:
    """What the user's digest lists at `now` (the end of "today" is the user's local midnight)."""
    local_today = now.astimezone(_zone(tz)).date()
    day_end = datetime.combine(local_today + timedelta(days=1), time(0), _zone(tz))
    cases = conn.execute(Q["my_cases_due"], {"user_id": user_id, "now": now, "day_end": day_end}).fetchall()
    overdue = [c for c in cases if c["overdue"]]
    due_today = [c for c in cases if not c["overdue"]]
    unassigned = (conn.execute(Q["unassigned_cases"], {"limit": SECTION_MAX_ITEMS}).fetchall()
                  if include_unassigned else [])
    unread = conn.execute(Q["unread_reminders"], {"user_id": user_id, "now": now,
                                                  "limit": SECTION_MAX_ITEMS}).fetchall()
    sections = {
        "overdue": _section(overdue, len(overdue)),
        "due_today": _section(due_today, len(due_today)),
        "unassigned": _section(unassigned, unassigned[0]["total"] if unassigned else 0),
        "unread": _section(unread, unread[0]["total"] if unread else 0),
    }
    return {"sections": sections, "count": sum(s["total"] for s in sections.values()), "tz": tz}


def _section(rows: list[dict[str, Any]], total: int) -> dict[str, Any]:
    shown = [dict(r) for r in rows[:SECTION_MAX_ITEMS]]
    return {"items": shown, "total": total, "more": max(0, total - len(shown))}


def message(recipient: dict[str, Any], content: dict[str, Any], day: date) -> EmailMessage:
    """The digest e-mail, in the recipient's language."""
    with speaking(recipient_language(recipient)):
        return _message(recipient, content, day)


def _message(recipient: dict[str, Any], content: dict[str, Any], day: date) -> EmailMessage:
    base = get_settings().base_url.rstrip("/")
    sections = content["sections"]
    for key in ("overdue", "due_today", "unassigned"):
        for c in sections[key]["items"]:
            c["url"] = f"{base}/sag/{c['id']}"
            c["deadline_text"] = _format_time(c["deadline"], content["tz"])
            c["due_text"] = _("due %(when)s", when=c["deadline_text"])
            c["status_text"] = _status_label(c)
    for r in sections["unread"]["items"]:
        r["url"] = f"{base}/sag/{r['sag_id']}" if r["sag_id"] else f"{base}/sag/reminders"
    title = ngettext("Your day %(day)s: %(num)s item", "Your day %(day)s: %(num)s items", content["count"],
                     day=formats.format_date(day, "EEEEdMMMM"))
    ctx = {"title": title, "sections": sections, "list_url": f"{base}/sag/reminders",
           "preferences_url": f"{base}/me/notifications", "cases_url": f"{base}/sag",
           "lang": i18n.get_language(), "off_label": _("Switch the daily digest off")}
    return mail.build_message(
        to=recipient["email"], to_name=recipient["user_name"], subject=title,
        text=_env.get_template("daily_digest.txt").render(ctx),
        html=_env.get_template("daily_digest.html").render(ctx),
        headers={"Auto-Submitted": "auto-generated", "X-BMC-Digest": day.isoformat()})
