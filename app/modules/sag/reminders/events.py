"""Queue events' state changes shared by the engine and the kinds' own handlers.

`Outcome` is what one batch did; `close`, `finish` and `retry` move claimed events out of
`processing` (each runs inside the caller's transaction); `alone` runs a statement that is a
transaction by itself in one round trip. A worker's tunables (`Options`) are in engine.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg.pq import TransactionStatus

from app.core.queries import load_queries

if TYPE_CHECKING:
    from app.modules.sag.reminders.engine import Options

Q = load_queries(Path(__file__).parent / "queries" / "worker.sql")
ERROR_MAX_CHARS = 1000


@dataclass
class Outcome:
    """What one batch did (returned for logs, tests and benchmarks)."""

    claimed: int = 0
    delivered: int = 0
    written: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    handed_over: Counter[str] = field(default_factory=Counter)  # per channel: rows (or summaries) sent later
    closed: list[tuple[int, str, str]] = field(default_factory=list)


def alone(conn: psycopg.Connection, query: str, params: dict | tuple | None = None) -> psycopg.Cursor:
    """Run `query` as a transaction of its own, committed when it returns: one round trip.

    `with conn.transaction()` around one statement costs three (BEGIN, the statement, COMMIT), each
    a wake-up of the worker and its server backend; on the commit -> log row path of an idle worker
    those were six of its nine round trips (docs/reminders.md, "Latency"). A single statement is
    atomic either way. Inside a transaction the caller opened, it is simply part of that one.
    """
    if conn.autocommit or in_transaction(conn):
        return conn.execute(query, params)
    conn.autocommit = True
    try:
        return conn.execute(query, params)
    finally:
        conn.autocommit = False


def in_transaction(conn: psycopg.Connection) -> bool:
    """Whether a transaction block is open on `conn` (the caller's, or psycopg's BEGIN), even with
    autocommit on: a statement sent now is part of it, and a CALL that commits cannot run."""
    return conn.info.transaction_status != TransactionStatus.IDLE


def error_text(exc: BaseException | str) -> str:
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return text[:ERROR_MAX_CHARS]


def finish(conn: psycopg.Connection, event_ids: list[int], now: datetime) -> None:
    """Events fully handled."""
    if event_ids:
        conn.execute(Q["finish_events"], {"ids": event_ids, "now": now})


def close(conn: psycopg.Connection, closed: list[tuple[int, str, str]], now: datetime) -> None:
    """Events skipped or failed for good: (id, 'skipped' | 'failed', reason)."""
    if closed:
        conn.execute(Q["close_events"], {"ids": [c[0] for c in closed], "statuses": [c[1] for c in closed],
                                         "reasons": [c[2] for c in closed], "now": now})


def retry(conn: psycopg.Connection, errors: dict[int, str], now: datetime, opts: Options, out: Outcome) -> list[int]:
    """Back to pending with back-off, or failed once the attempts are used up; returns the events that gave up.

    An event that gives up fails its rows still waiting for a transport.
    """
    if not errors:
        return []
    rows = conn.execute(Q["retry_events"], {
        "ids": list(errors), "errors": list(errors.values()), "now": now, "max_attempts": opts.max_attempts,
        "base_backoff_s": opts.retry_base_s, "max_backoff_s": opts.retry_max_s}).fetchall()
    gave_up = [r["id"] for r in rows if r["status"] == "failed"]
    out.retried += len(rows) - len(gave_up)
    out.failed += len(gave_up)
    if gave_up:
        conn.execute(Q["fail_pending_rows"], {"event_ids": gave_up, "now": now,
                                              "error": "gave up after the last attempt"})
    return gave_up
