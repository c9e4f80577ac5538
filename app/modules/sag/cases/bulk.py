"""Bulk cases: write many realistic cases (with history, notes and SLA clocks) fast, with COPY.

Used by `bmc-hub demo --cases N` and by bench/cases_list.py. A generated case is
indistinguishable from one made through the app (tests/test_bulk.py compares the two):

Why the triggers are switched off, and what replaces them. Through the app every case insert
and status change runs the sag_sager triggers: sag_track_status (closed_at, version,
created_by), sag_record_status_history (a history row per change), sag_sla_track_case (the
SLA clock row), sag_cases_reminders (status-change firings, deadline events) and
set_updated_at. Row by row they cost far more than the COPY itself, and a case's life (insert,
then each status change at its own time) cannot be replayed through them without an UPDATE
per step. So the load runs with `session_replication_role = replica` for its transaction
only (SET LOCAL: ordinary and foreign-key triggers do not fire) and writes what the triggers
would have written from the same story (bulk_plan.derive): the history rows, closed_at,
version, updated_at, the watchers (creator, assignee, note authors), the notes' search words
(computed as the cases are inserted: each case row is written once), the clock row (via
sag_sla_refresh_cases, the set-based sag_sla_refresh, when an SLA policy exists), the deadline
reminders of open cases (via sag_schedule_deadlines itself). Every id it writes
comes from rows that exist (active users, customers), so the skipped foreign-key checks
cannot let a bad reference in. Left out on purpose: reminder rules do not act on the generated
past -- no status-change firings, and no cancelled deadline events of cases closed long ago
(a year-old "case closed" reminder is noise); the history's `changed_at` is the story's time,
as the normal demo backdates it too.

The replica role needs a superuser or `GRANT SET ON PARAMETER session_replication_role`;
without it the load stops with a message saying so. The tables are locked (ACCESS
EXCLUSIVE) for the load; when a load is larger than a table, that table's plain indexes are
dropped and rebuilt afterwards (building an index once is several times cheaper than
growing it row by row, the trigram index most of all). All in one transaction: it either
happens whole or not at all.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from app.core import database
from app.core.errors import Conflict
from app.core.queries import load_queries
from app.modules.sag.cases.bulk_plan import CasePlan, derive, note_pool, random_plan, text_pool

log = logging.getLogger("app.modules.sag")

Q = load_queries(Path(__file__).parent / "queries" / "bulk.sql")

BULK_SEED = 1302
# Cases generated and written per round of COPYs (bounds the memory the plans take).
BATCH = 50_000
TABLES = ("sag_sager", "sag_status_history", "sag_notes", "sag_sla_clocks", "sag_watchers")
SERIAL_TABLES = ("sag_sager", "sag_status_history", "sag_notes")
# Rough rows per case (only to decide whether a table's indexes are rebuilt rather than grown).
HISTORY_PER_CASE = 4
NOTES_PER_CASE = 1.6
WATCHERS_PER_CASE = 2.5
# maintenance_work_mem for the index rebuilds (this transaction only): room for the trigram
# index's entries, which the default 64 MB makes the build write out in many more rounds.
INDEX_BUILD_MEMORY = "512MB"

CASE_COLUMNS = ("id", "title", "description", "customer_id", "status", "priority", "assigned_to", "created_by",
                "deadline", "closed_at", "version", "created_at", "updated_at")
CASE_TYPES = ("int4", "text", "text", "int4", "text", "text", "int4", "int4", "timestamptz", "timestamptz", "int4",
              "timestamptz", "timestamptz")
HISTORY_COLUMNS = ("id", "sag_id", "from_status", "to_status", "changed_by", "note", "changed_at", "created_at")
HISTORY_TYPES = ("int8", "int4", "text", "text", "int4", "text", "timestamptz", "timestamptz")
NOTE_COLUMNS = ("id", "sag_id", "author_id", "body", "via", "created_at")
NOTE_TYPES = ("int8", "int4", "int4", "text", "text", "timestamptz")
CLOCK_COLUMNS = ("sag_id", "first_response_at", "created_at", "updated_at")
CLOCK_TYPES = ("int4", "timestamptz", "timestamptz", "timestamptz")
WATCHER_COLUMNS = ("sag_id", "user_id", "reason", "created_at")
WATCHER_TYPES = ("int4", "int4", "text", "timestamptz")


class BulkRefused(Conflict):
    """The database refuses what a bulk load needs (privilege, users)."""


@dataclass
class BulkResult:
    cases: int
    history: int
    notes: int
    first_id: int | None
    seconds: float
    # Seconds per step of the load (COPY, each derived table, each index rebuild, ANALYZE), to see where the time goes.
    steps: dict[str, float] = field(default_factory=dict)


@contextmanager
def _timed(steps: dict[str, float], name: str):
    started = time.perf_counter()
    yield
    steps[name] = round(steps.get(name, 0.0) + time.perf_counter() - started, 2)


def _copy(cur: psycopg.Cursor, table: str, columns: tuple[str, ...], types: tuple[str, ...], rows) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
    with cur.copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _rows(plans: list[CasePlan], first_case: int, next_history: int, next_note: int):
    """The five tables' rows for `plans`, ids from the given starts."""
    cases, history, notes, clocks, watchers = [], [], [], [], []
    for offset, plan in enumerate(plans):
        case_id = first_case + offset
        d = derive(plan)
        cases.append((case_id, plan.title, plan.description, plan.customer_id, d.status, plan.priority,
                      plan.assigned_to, plan.created_by, plan.deadline, d.closed_at, d.version, plan.created_at,
                      d.updated_at))
        # The insert's row: acting user at creation is the creator (sag_record_status_history).
        history.append((next_history, case_id, None, "new", plan.created_by, None, plan.created_at,
                        plan.created_at))
        next_history += 1
        previous = "new"
        for status, actor, note, at in plan.steps:
            history.append((next_history, case_id, previous, status, actor, note, at, at))
            next_history += 1
            previous = status
        for author, body, via, at in plan.notes:
            notes.append((next_note, case_id, author, body, via, at))
            next_note += 1
        # The clock row is written at the insert and touched by every status change.
        last_change = plan.steps[-1][3] if plan.steps else plan.created_at
        clocks.append((case_id, d.first_response_at, plan.created_at, last_change))
        watchers.extend(_watchers(case_id, plan))
    return cases, history, notes, clocks, watchers


def _watchers(case_id: int, plan: CasePlan) -> list[tuple]:
    """Who the triggers make a watcher of a case, once each, with the first reason: the creator,
    the assignee, then each note's author at their first note (sag_sager_auto_watchers,
    sag_notes_queue_notifications)."""
    seen: dict[int, tuple] = {}
    if plan.created_by is not None:
        seen[plan.created_by] = (case_id, plan.created_by, "creator", plan.created_at)
    if plan.assigned_to is not None and plan.assigned_to not in seen:
        seen[plan.assigned_to] = (case_id, plan.assigned_to, "assignee", plan.created_at)
    for author, _body, _via, at in plan.notes:
        if author is not None and author not in seen:
            seen[author] = (case_id, author, "note", at)
    return list(seen.values())


def _drop_indexes(conn: psycopg.Connection, loading: dict[str, int]) -> list[tuple[str, str]]:
    """Drop the plain indexes of each table the load outgrows; (table, definition) to rebuild."""
    rebuild = []
    for table, n in loading.items():
        existing = conn.execute(Q["table_rows"], {"table": table}).fetchone()["n"]
        if n <= existing:
            continue
        for index in conn.execute(Q["plain_indexes"], {"table": table}).fetchall():
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index["name"])))
            rebuild.append((table, index["definition"]))
    return rebuild


def _rebuild(conn: psycopg.Connection, definitions: list[str], steps: dict[str, float]) -> None:
    for definition in definitions:
        with _timed(steps, definition.split()[2]):
            conn.execute(definition)


def _produce(plans_batches, ids: dict[str, int], out: queue.Queue, stop: threading.Event) -> None:
    """Turn plan batches into rows (in a thread, while the previous batch is being copied)."""

    def put(item) -> None:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    try:
        for plans in plans_batches:
            if stop.is_set():
                return
            rows = _rows(plans, ids["sag_sager"], ids["sag_status_history"], ids["sag_notes"])
            ids["sag_sager"] += len(rows[0])
            ids["sag_status_history"] += len(rows[1])
            ids["sag_notes"] += len(rows[2])
            put(rows)
        put(None)
    except BaseException as exc:  # noqa: BLE001 - handed to the loading thread, which raises it
        put(exc)


def write_plans(conn: psycopg.Connection, plans_batches, total: int, *, advance=lambda n=1: None) -> BulkResult:
    """Write `total` cases from an iterable of plan lists, in the caller's transaction `conn`."""
    started = time.perf_counter()
    try:
        conn.execute(Q["replica_role"])
    except psycopg.errors.InsufficientPrivilege as exc:
        raise BulkRefused(
            "Generating cases in bulk needs a superuser or `GRANT SET ON PARAMETER session_replication_role` "
            "for the hub's database user (it skips the row triggers and writes their results itself)") from exc
    # With every writer locked out, ids can be handed out here and the sequences moved past them at the end.
    conn.execute(Q["lock_tables"])
    rebuild = _drop_indexes(conn, {"sag_sager": total, "sag_status_history": total * HISTORY_PER_CASE,
                                   "sag_notes": total * NOTES_PER_CASE, "sag_sla_clocks": total,
                                   "sag_watchers": total * WATCHERS_PER_CASE})
    ids = {t: conn.execute(Q["next_id"], {"table": t}).fetchone()["id"] for t in SERIAL_TABLES}
    conn.execute(Q["create_stage"])
    first_case = ids["sag_sager"]
    batches: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    producer = threading.Thread(target=_produce, args=(plans_batches, ids, batches, stop), name="bulk-plans",
                                daemon=True)
    producer.start()
    n_cases = n_history = n_notes = 0
    steps: dict[str, float] = {}
    try:
        with conn.cursor() as cur:
            while True:
                with _timed(steps, "plans"):
                    rows = batches.get()
                if rows is None:
                    break
                if isinstance(rows, BaseException):
                    raise rows
                cases, history, notes, clocks, watchers = rows
                with _timed(steps, "copy"):
                    _copy(cur, "sag_status_history", HISTORY_COLUMNS, HISTORY_TYPES, history)
                    _copy(cur, "sag_notes", NOTE_COLUMNS, NOTE_TYPES, notes)
                    _copy(cur, "sag_sla_clocks", CLOCK_COLUMNS, CLOCK_TYPES, clocks)
                    _copy(cur, "sag_watchers", WATCHER_COLUMNS, WATCHER_TYPES, watchers)
                    cur.execute(Q["clear_stage"])
                    _copy(cur, "bulk_cases_stage", CASE_COLUMNS, CASE_TYPES, cases)
                with _timed(steps, "insert_cases"):
                    # The cases with their notes' search words, computed before the row is written
                    # (an UPDATE afterwards would write every case with notes twice).
                    cur.execute(Q["insert_staged_cases"], {
                        "first_note": notes[0][0] if notes else 0, "last_note": notes[-1][0] if notes else -1})
                n_cases += len(cases)
                n_history += len(history)
                n_notes += len(notes)
                advance(len(cases))
    finally:
        stop.set()
        producer.join()
    if n_cases != total:
        raise ValueError(f"expected {total} plans, got {n_cases}")
    for table in SERIAL_TABLES:
        if ids[table] > 1:
            conn.execute(Q["move_sequence"], {"table": table, "last": ids[table] - 1})
    last_case = first_case + total - 1
    span = {"first": first_case, "last": last_case}
    with _timed(steps, "schedule_deadlines"):
        conn.execute(Q["schedule_deadlines"], span)
    conn.execute(Q["index_memory"], {"mem": INDEX_BUILD_MEMORY})
    # With an SLA policy the clocks are computed from the history and notes (through their
    # rebuilt indexes), and the clocks' own indexes are built after that UPDATE, not grown by it.
    _rebuild(conn, [d for t, d in rebuild if t != "sag_sla_clocks"], steps)
    if conn.execute(Q["has_sla_policy"]).fetchone()["any"]:
        with _timed(steps, "refresh_sla"):
            # Statistics of the loaded tables first: without them the planner takes the history
            # and notes for a few rows, and the one statement for all cases takes minutes.
            conn.execute(Q["analyze_for_sla"])
            conn.execute(Q["refresh_sla"], span)
    _rebuild(conn, [d for t, d in rebuild if t == "sag_sla_clocks"], steps)
    conn.execute(Q["default_role"])
    return BulkResult(n_cases, n_history, n_notes, first_case, round(time.perf_counter() - started, 2), steps)


def _batches(count: int, rng: random.Random, now: datetime, users: list[int], customers: list[int]):
    texts, notes = text_pool(rng), note_pool(rng)
    left = count
    while left > 0:
        n = min(BATCH, left)
        yield [random_plan(rng, now, users, customers, texts, notes) for _ in range(n)]
        left -= n


def bulk_cases(count: int, *, seed: int = BULK_SEED, now: datetime | None = None,
               advance: Callable = lambda n=1: None) -> BulkResult:
    """Generate and write `count` cases over the active users and customers, then ANALYZE."""
    if count < 1:
        raise ValueError("count must be at least 1")
    refs = database.execute_query(Q["valid_refs"])[0]
    if not refs["users"]:
        raise BulkRefused("Generating cases needs at least one active user")
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    with database.transaction() as conn:
        result = write_plans(conn, _batches(count, rng, now, refs["users"], refs["customers"]), count,
                             advance=advance)
    analyzed = time.perf_counter()
    with database.connect(autocommit=True) as conn, _timed(result.steps, "analyze"):
        conn.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, TABLES))))
    result.seconds = round(result.seconds + time.perf_counter() - analyzed, 2)
    log.info("bulk: %d cases, %d history rows, %d notes in %.1f s (%s)", result.cases, result.history,
             result.notes, result.seconds, ", ".join(f"{k} {v} s" for k, v in result.steps.items()))
    return result


def fill_to(total: int, **kwargs) -> BulkResult | None:
    """Bulk-generate cases until the hub holds `total` cases; None when it holds that many already."""
    existing = database.execute_query(Q["count_cases"])[0]["n"]
    return bulk_cases(total - existing, **kwargs) if total > existing else None
