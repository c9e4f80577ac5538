"""Setup helpers for the mention, watcher and reply tests (a plain module: pytest collects no tests here)."""

from __future__ import annotations

import email
import os
import socket
from datetime import timedelta
from email import policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app.core import database
from app.core.config import reset_settings
from app.modules.sag.conversation import notes
from app.modules.sag.reminders.tests.reminders_helpers import run_worker

# Watch news of a status change waits a few seconds (sag_sager_queue_watch_status); run the worker past it.
PAST_SETTLE = timedelta(seconds=30)


def add_note(case_id: int, author: dict, body: str) -> dict:
    with database.acting_user(author["id"]), database.transaction() as conn:
        return notes.add_note(conn, case_id, author["id"], body, via="api")


def edit_note(note_id: int, editor: dict, body: str) -> dict:
    with database.acting_user(editor["id"]), database.transaction() as conn:
        return notes.edit_note(conn, note_id, editor["id"], body)


def set_status_as(case_id: int, user: dict | None, status: str) -> None:
    with database.acting_user(user["id"] if user else None), database.transaction() as conn:
        conn.execute("UPDATE sag_sager SET status = %s WHERE id = %s", (status, case_id))


def drain() -> int:
    return run_worker(PAST_SETTLE)


def notifications(kind: str, case_id: int, **where: Any) -> list[dict[str, Any]]:
    """Log rows of events of `kind` ('mention' | 'watch') about a case."""
    conds = "".join(f" AND l.{k} = %({k})s" for k in where)
    return database.execute_query(
        "SELECT l.*, q.event_data FROM sag_reminder_logs l JOIN sag_reminder_queue q ON q.id = l.event_id "
        f"WHERE q.kind = %(kind)s AND l.sag_id = %(case_id)s{conds} ORDER BY l.id",
        {"kind": kind, "case_id": case_id, **where})


def overrides(user_id: int, value: dict) -> None:
    database.execute_update("UPDATE user_notification_preferences SET trigger_overrides = %s WHERE user_id = %s",
                            (database_json(value), user_id))


def database_json(value: dict):
    from psycopg.types.json import Jsonb

    return Jsonb(value)


class Inbox:
    """A real SMTP server on loopback that keeps what it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def outbox():
    """Outgoing mail goes to a real SMTP server on loopback; yields its Inbox."""
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    os.environ["SMTP_HOST"], os.environ["SMTP_PORT"] = "127.0.0.1", str(controller.port)
    reset_settings()
    try:
        yield box
    finally:
        controller.stop()
        os.environ.pop("SMTP_HOST", None)
        os.environ.pop("SMTP_PORT", None)
        reset_settings()
