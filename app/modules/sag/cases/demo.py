"""Demo cases for `bmc-hub demo`: ~200 cases over the demo customers and users.

Every case gets a believable life: created some days ago by one person, moved through
statuses by others (the history trigger records each step and who took it), with open
cases overdue, due within a day, due later or without a deadline. The history and
updated_at are then backdated to the times those steps "happened" (and the cases' SLA clocks
computed again from the back-dated history). Idempotent: when demo
cases exist already, nothing is added. backend/demo.py runs it, then the reminder demo.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from app.core import database
from app.modules.sag.cases.demo_text import (
    CASES,
    DEVICES,
    FIRST_NAMES,
    LAST_NAMES,
    PLACES,
    PRINTERS,
    STATUS_NOTES,
)

log = logging.getLogger("app.modules.sag")

DEMO_CASES = 200
DEMO_SEED = 4711
# The core's demo users; other active users are used when these do not exist.
DEMO_USERNAMES = ("mette", "lars", "sofie", "jonas", "freja", "mikkel")
# Final status of a demo case -> weight.
STATUS_WEIGHTS = {"new": 14, "in_progress": 24, "waiting_customer": 12, "on_hold": 7, "resolved": 15,
                  "closed": 28}
PRIORITY_WEIGHTS = {"low": 15, "normal": 55, "high": 22, "urgent": 8}
# How long ago demo cases were opened, days.
MAX_AGE_DAYS = 75


def _path_to(final: str, rng: random.Random) -> list[str]:
    """The statuses a case passed through after "new" to reach `final`."""
    if final == "new":
        return []
    path = ["in_progress"]
    if final in ("resolved", "closed") and rng.random() < 0.35:
        path += ["waiting_customer", "in_progress"]
    if final in ("waiting_customer", "on_hold"):
        path.append(final)
    if final in ("resolved", "closed"):
        path.append("resolved")
    if final == "closed":
        path.append("closed")
    return path


def _deadline(final: str, created: datetime, now: datetime, rng: random.Random) -> datetime | None:
    if final in ("resolved", "closed"):
        return created + timedelta(days=rng.uniform(1, 14)) if rng.random() < 0.6 else None
    roll = rng.random()
    if roll < 0.30:  # overdue
        return now - timedelta(hours=rng.uniform(2, 24 * 10))
    if roll < 0.50:  # due within a day
        return now + timedelta(hours=rng.uniform(1, 22))
    if roll < 0.80:
        return now + timedelta(days=rng.uniform(2, 30))
    return None


def case_text(rng: random.Random) -> tuple[str, str]:
    title, description = rng.choice(CASES)
    values = {"name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", "place": rng.choice(PLACES),
              "device": rng.choice(DEVICES), "printer": rng.choice(PRINTERS), "n": rng.randint(4, 40)}
    return title.format(**values)[:200], description.format(**values)


def _people() -> tuple[list[int], list[int]]:
    users = database.execute_query(
        "SELECT id FROM users WHERE active AND username = ANY(%s) ORDER BY id", (list(DEMO_USERNAMES),))
    if not users:
        users = database.execute_query("SELECT id FROM users WHERE active ORDER BY id LIMIT 10")
    customers = database.execute_query("SELECT id FROM customers WHERE active ORDER BY id")
    return [u["id"] for u in users], [c["id"] for c in customers]


def _as(user_id: int | None) -> None:
    """Attribute the next statements in this transaction to `user_id` (what the history records)."""
    database.execute_query("SELECT set_config('bmc.user_id', %s, true)", ("" if user_id is None else str(user_id),))


def _make_case(rng: random.Random, users: list[int], customers: list[int], now: datetime) -> dict[str, Any]:
    final = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    created = now - timedelta(days=rng.uniform(0.2, MAX_AGE_DAYS))
    creator = rng.choice(users)
    assignee = None if (final == "new" and rng.random() < 0.5) or rng.random() < 0.05 else rng.choice(users)
    title, description = case_text(rng)
    _as(creator)  # the creator also acts the creation (the previous case's last actor did before)
    case_id = database.execute_insert(
        "INSERT INTO sag_sager (title, description, customer_id, priority, assigned_to, created_by, deadline, "
        "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (title, description, rng.choice(customers) if customers and rng.random() < 0.95 else None,
         rng.choices(list(PRIORITY_WEIGHTS), weights=list(PRIORITY_WEIGHTS.values()))[0],
         assignee, creator, _deadline(final, created, now, rng), created),
    )
    steps = _path_to(final, rng)
    # Spread the steps between creation and (a little before) now.
    span = (now - created).total_seconds()
    times = sorted(created + timedelta(seconds=rng.uniform(0.05, 0.95) * span) for _ in steps)
    for status, _when in zip(steps, times, strict=True):
        actor = assignee if assignee is not None and rng.random() < 0.8 else rng.choice(users)
        _as(actor)
        note = rng.choice(STATUS_NOTES.get(status, [None]))
        database.execute_query("SELECT set_config('sag.status_note', %s, true)", (note or "",))
        database.execute_update("UPDATE sag_sager SET status = %s WHERE id = %s", (status, case_id))
    database.execute_query("SELECT set_config('sag.status_note', '', true)")
    history = database.execute_query(
        "SELECT id FROM sag_status_history WHERE sag_id = %s ORDER BY id", (case_id,))
    for row, when in zip(history, [created, *times], strict=True):
        database.execute_update(
            "UPDATE sag_status_history SET changed_at = %s, created_at = %s WHERE id = %s",
            (when, when, row["id"]))
    last = times[-1] if times else created
    closed_at = next((t for s, t in zip(steps, times, strict=True) if s in ("resolved", "closed")), None)
    return {"id": case_id, "updated_at": last + timedelta(minutes=rng.uniform(0, 30)), "closed_at": closed_at}


def _backdate(made: list[dict[str, Any]]) -> None:
    """Give the demo cases the updated_at/closed_at of their story (pausing the updated_at trigger)."""
    with database.transaction() as conn:
        try:
            with conn.transaction():  # a savepoint: without table ownership, keep today's times
                conn.execute("ALTER TABLE sag_sager DISABLE TRIGGER sag_sager_set_updated_at")
                with conn.cursor() as cur:
                    cur.executemany(
                        "UPDATE sag_sager SET updated_at = %(updated_at)s, "
                        "closed_at = COALESCE(%(closed_at)s, closed_at) WHERE id = %(id)s", made)
                conn.execute("ALTER TABLE sag_sager ENABLE TRIGGER sag_sager_set_updated_at")
        except psycopg.errors.InsufficientPrivilege:
            log.warning("demo: cannot pause the updated_at trigger; demo cases keep today's updated_at")


def demo_cases(count: int = DEMO_CASES, seed: int = DEMO_SEED, advance=lambda n=1: None,
               now: datetime | None = None) -> int:
    """Create `count` demo cases unless demo cases exist; return how many were created."""
    users, customers = _people()
    if not users:
        return 0
    if database.execute_query("SELECT 1 FROM sag_sager WHERE created_by = ANY(%s) LIMIT 1", (users,)):
        return 0
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    made = []
    with database.transaction():
        for _ in range(count):
            made.append(_make_case(rng, users, customers, now))
            advance()
        _as(None)
        _backdate(made)
        # The SLA clocks were computed from the histories as written, before they were back-dated.
        database.execute_query("SELECT sag_sla_refresh_cases(%s)", ([m["id"] for m in made],))
    return len(made)

