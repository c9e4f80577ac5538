"""Setup and query helpers shared by the reminder tests (a plain module: pytest collects no tests here)."""

from __future__ import annotations

import email
import os
import socket
import uuid
from datetime import datetime, timedelta
from email import policy
from typing import Any

from app.core import database
from app.core.config import reset_settings
from app.modules.sag.reminders import store as reminders_store
from app.modules.sag.reminders.worker import ReminderWorker
from app.modules.sag.sla import calendars

OFFICE_DAY = [{"start": "08:00", "end": "16:00"}]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def make_calendar(name: str = "Office", days: tuple[str, ...] = WEEKDAYS) -> int:
    """A business-hours calendar open 08-16 on `days`; its id."""
    body = calendars.CalendarIn(name=name, weekly_hours=dict.fromkeys(days, OFFICE_DAY))
    return calendars.create_calendar(body)["id"]


def db_now() -> datetime:
    return database.execute_query("SELECT now() AS now")[0]["now"]


def prefs(user_id: int, **values: Any) -> None:
    """Set columns of the user's notification preferences."""
    sets = ", ".join(f"{k} = %({k})s" for k in values)
    database.execute_update(f"UPDATE user_notification_preferences SET {sets} WHERE user_id = %(uid)s",
                            dict(values, uid=user_id))


def make_case(**fields: Any) -> dict[str, Any]:
    """A case inserted directly (the reminder triggers see it like any other insert)."""
    values = {"title": f"Case {uuid.uuid4().hex[:6]}", "description": "", "status": "new", "priority": "normal",
              "assigned_to": None, "created_by": None, "deadline": None, "customer_id": None}
    values.update(fields)
    cols = list(values)
    return database.execute_query(
        f"INSERT INTO sag_sager ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) RETURNING *",
        [values[c] for c in cols])[0]


def set_status(case_id: int, status: str) -> None:
    database.execute_update("UPDATE sag_sager SET status = %s WHERE id = %s", (status, case_id))


def make_rule(created_by: int | None = None, **body: Any) -> dict[str, Any]:
    data = {"name": f"Rule {uuid.uuid4().hex[:6]}", "trigger_type": "status_change",
            "trigger_config": {"from": "any", "to": "any"}, "recipients": {"assignee": True},
            "channels": ["in_app"], "title_template": "{{ case.title }} changed"}
    data.update(body)
    return reminders_store.create_rule(data, created_by)


def worker(offset: timedelta = timedelta(0), **options: Any) -> ReminderWorker:
    options.setdefault("retry_base_s", 1.0)
    return ReminderWorker(offset=offset, **options)


def run_worker(offset: timedelta = timedelta(0), **options: Any) -> int:
    w = worker(offset, **options)
    try:
        return w.drain()
    finally:
        w.close()


def logs(**where: Any) -> list[dict[str, Any]]:
    conds = " AND ".join(f"{k} = %({k})s" for k in where) or "TRUE"
    return database.execute_query(f"SELECT * FROM sag_reminder_logs WHERE {conds} ORDER BY id", where)


def events(**where: Any) -> list[dict[str, Any]]:
    conds = " AND ".join(f"{k} = %({k})s" for k in where) or "TRUE"
    return database.execute_query(f"SELECT * FROM sag_reminder_queue WHERE {conds} ORDER BY id", where)


def clear_queue() -> None:
    """Start a test from a quiet hub: earlier tests' rules off, nothing queued."""
    database.execute_update("UPDATE sag_reminders SET active = FALSE WHERE active")
    database.execute_update("UPDATE sag_reminder_queue SET status = 'cancelled' "
                            "WHERE status IN ('pending', 'processing')")
    database.execute_update("DELETE FROM sag_reminder_inbox")


def inbox(**where: Any) -> list[dict[str, Any]]:
    """Status-change firings not yet moved into the queue by a worker."""
    conds = " AND ".join(f"{k} = %({k})s" for k in where) or "TRUE"
    return database.execute_query(f"SELECT * FROM sag_reminder_inbox WHERE {conds} ORDER BY id", where)


class Inbox:
    """What a real SMTP server on loopback received."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, user: dict) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if user["email"] in str(m["To"])]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def use_smtp(port: int | None) -> None:
    if port is None:
        os.environ.pop("SMTP_HOST", None)
        os.environ.pop("SMTP_PORT", None)
    else:
        os.environ["SMTP_HOST"] = "127.0.0.1"
        os.environ["SMTP_PORT"] = str(port)
    reset_settings()

