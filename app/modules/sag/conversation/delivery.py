"""Delivering a `mention` or `watch` event to users the handler chose, through the engine's batch path.

The handler decides the recipients (explicit user ids); from there the event goes exactly like a
rule firing: `engine.write_logs` (preferences, per-kind overrides and defaults, quiet hours, the
hourly limit), `engine.hand_over` (e-mail and other channels that send later), then finish or retry.
The recipients are stored on the event first, so a retry reaches the same users.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from app.core import i18n
from app.core.queries import load_queries
from app.modules.sag.reminders import channels
from app.modules.sag.reminders.events import Outcome, close, finish, retry

Q = load_queries(Path(__file__).parent / "queries" / "mentions.sql")
TITLE_MAX_CHARS = 500
MESSAGE_MAX_CHARS = 5000


def stored_recipients(row: dict[str, Any]) -> list[int] | None:
    """The users an earlier attempt of this event chose, or None on the first attempt."""
    users = ((row["event_data"] or {}).get("recipients") or {}).get("users")
    return [int(u) for u in users] if isinstance(users, list) else None


def skip(conn: psycopg.Connection, row: dict[str, Any], reason: str, now: datetime, out: Outcome) -> None:
    with conn.transaction():
        close(conn, [(row["id"], "skipped", reason)], now)
    out.skipped += 1


def in_each_language(texts: Callable[[], tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """`texts()` (title, message) written in each language ("" = the hub's), so every recipient
    reads the notification in their own."""
    from app.modules.sag.reminders.email import speaking

    written = {}
    for language in i18n.LANGUAGES:
        with speaking(language):
            title, message = texts()
        written[language] = (title[:TITLE_MAX_CHARS], message[:MESSAGE_MAX_CHARS])
    written[""] = written[i18n.default_language()]
    return written


def deliver(conn: psycopg.Connection, row: dict[str, Any], user_ids: list[int],
            texts: Callable[[], tuple[str, str]], now: datetime, opts: Any, out: Outcome) -> None:
    """Write and hand over the event's notifications to `user_ids` (none: the event is skipped);
    `texts()` gives (title, message) in the current language, asked once per language."""
    # engine.py imports the kinds table, which lists this module's handlers: import it here.
    from app.modules.sag.reminders import engine

    if not user_ids:
        skip(conn, row, "no one to notify", now, out)
        return
    with conn.transaction():
        conn.execute(Q["set_recipients"], {"id": row["id"], "recipients": Jsonb({"users": user_ids})})
    registry = channels.registry()
    localized = in_each_language(texts)
    title, message = localized[""]
    firing = engine.Firing(row["id"], title, message, False, any(c.pending for c in registry.values()),
                           localized)
    part = Outcome()
    waiting = engine.write_logs(conn, [firing], registry, now, opts, part)
    failed = engine.hand_over(conn, waiting, registry, now, opts, part) if waiting else {}
    with conn.transaction():
        finish(conn, [e for e in waiting if e not in failed], now)
        retry(conn, failed, now, opts, out)
    out.written += part.written
    out.delivered += part.delivered
    out.handed_over.update(part.handed_over)
