"""Bulk cases: write many realistic cases (with history, notes and SLA clocks) fast, with COPY.

Used by `bmc-hub demo --cases N` and by bench/cases_list.py. A generated case is
indistinguishable from one made through the app (cases/tests/test_cases_bulk.py compares the two):

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
(bulk_rows.notes_search, written with the case row), the SLA clock row (sla/bulk_clocks.py:
what sag_sla_refresh computes, from the story, the policies and the calendars' stored spans,
in the producers), the deadline reminders of open cases (via sag_schedule_deadlines itself). Every id it writes
comes from rows that exist (active users, customers), so the skipped foreign-key checks
cannot let a bad reference in. Left out on purpose: reminder rules do not act on the generated
past -- no status-change firings, and no cancelled deadline events of cases closed long ago
(a year-old "case closed" reminder is noise); the history's `changed_at` is the story's time,
as the normal demo backdates it too.

The replica role needs a superuser or `GRANT SET ON PARAMETER session_replication_role`;
without it the load stops with a message saying so. The tables are locked (ACCESS
EXCLUSIVE) for the load; when a load is larger than a table, that table's plain indexes and
its primary key (when no foreign key refers to it) are dropped and rebuilt afterwards (building
an index once is several times cheaper than growing it row by row, the trigram index most of
all). At wal_level=minimal (the embedded server's) those tables are first rewritten into new
files in the same transaction (CLUSTER of their few existing rows), so neither their COPY nor
the index rebuilds write to the WAL: PostgreSQL syncs the new files at commit instead (the load
has the kernel write its pages out as they leave the shared buffers, backend_flush_after, so
the commit finds little left to write). Into such a new file the COPY writes its rows frozen
(FREEZE): no later reader has to set their hint bits, which with data checksums (initdb's
default) writes every page touched to the WAL once more -- the ANALYZE after the load did that
for ~0.9 GB per million cases. FREEZE's one departure from MVCC: a transaction whose snapshot
is older than the load's commit sees the new rows (the tables are locked while it runs). All
in one transaction: it either happens whole or not at all.

How the two cores are used. The stories are generated and encoded for COPY by PRODUCERS
processes (bulk_rows.encode), batch by batch, each batch from its own seed; this process only
hands their ready COPY data to the server, whose one backend ingests it while the producers
work on the next batches. The index rebuilds then run with PostgreSQL's parallel workers
(INDEX_BUILD_WORKERS: one per core beyond the first).
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path

import psycopg
from psycopg import sql

from app.core import database
from app.core.errors import Conflict
from app.core.queries import load_queries
from app.modules.sag.cases import bulk_rows
from app.modules.sag.cases.bulk_plan import CasePlan, micros, note_pool, random_plan, text_pool
from app.modules.sag.sla import bulk_clocks

log = logging.getLogger("app.modules.sag")

Q = load_queries(Path(__file__).parent / "queries" / "bulk.sql")

BULK_SEED = 1302
# Cases generated and written per round of COPYs: small enough that the server starts copying
# soon after the start (the first batch is waited for), large enough that a round's five COPY
# statements cost nothing next to its rows.
BATCH = 10_000
# Processes generating and encoding batches while the server ingests the previous ones: the
# server's one backend takes a core for the COPYs, the stories take about twice its time.
PRODUCERS = 2
TABLES = ("sag_sager", "sag_status_history", "sag_notes", "sag_sla_clocks", "sag_watchers")
# The tables' ANALYZE on two connections at once (the cases, with their texts and words, take
# about as long as the other four together).
ANALYZE_GROUPS = (TABLES[:1], TABLES[1:])
# Rough rows per case (only to decide whether a table's indexes are rebuilt rather than grown).
HISTORY_PER_CASE = 4
NOTES_PER_CASE = 1.6
WATCHERS_PER_CASE = 2.5
# maintenance_work_mem for the index rebuilds (this transaction only; shared by the parallel
# workers of a build): room for the trigram index's entries, which a small budget makes the
# build write out in many more rounds.
INDEX_BUILD_MEMORY = "1GB"
# Parallel workers per index rebuild, besides the backend itself (which builds its share too):
# one fewer than this machine's cores (the embedded server's; at most PostgreSQL's default of
# two), as more processes than cores only add the cost of their coordination (the trigram
# index of 200,000 cases on two cores: ~13.4 CPU-s with one worker, ~16 with two).
INDEX_BUILD_WORKERS = max(1, min(2, (os.cpu_count() or 2) - 1))


class BulkRefused(Conflict):
    """The database refuses what a bulk load needs (privilege, users)."""


@dataclass
class BulkResult:
    cases: int
    history: int
    notes: int
    first_id: int | None
    seconds: float
    # Seconds per step of the load (COPY, each index rebuild, ANALYZE), to see where the time goes.
    steps: dict[str, float] = field(default_factory=dict)


@contextmanager
def _timed(steps: dict[str, float], name: str):
    started = time.perf_counter()
    yield
    steps[name] = round(steps.get(name, 0.0) + time.perf_counter() - started, 2)


def _copy(cur: psycopg.Cursor, table: str, data: bytes, freeze: bool) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY{})").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c, _type in bulk_rows.COLUMNS[table]),
        sql.SQL(", FREEZE") if freeze else sql.SQL(""))
    with cur.copy(statement) as copy:
        copy.write(bulk_rows.SIGNATURE)
        copy.write(data)
        copy.write(bulk_rows.TRAILER)


def note_words(conn: psycopg.Connection, bodies: Iterable[str]) -> dict[str, bulk_rows.NoteWords]:
    """The words of each note text as the server's to_tsvector('simple') finds them."""
    found: dict[str, dict[str, list[int]]] = {body: {} for body in bodies}
    for row in conn.execute(Q["note_words"], {"bodies": list(found)}):
        found[row["body"]][row["lexeme"]] = row["positions"]
    return bulk_rows.note_words(found)


def _outgrown(conn: psycopg.Connection, loading: dict[str, int]) -> list[str]:
    """The tables to which the load adds more rows than they hold (rows to add per table)."""
    return [table for table, n in loading.items()
            if n > conn.execute(Q["table_rows"], {"table": table}).fetchone()["n"]]


def _rewrite(conn: psycopg.Connection, tables: list[str]) -> list[str]:
    """Give each of `tables` a new file in this transaction (CLUSTER by its primary key rewrites its
    few rows; the flag CLUSTER leaves is taken off again), so that at wal_level=minimal (the embedded
    server's) its COPY writes no WAL: PostgreSQL then syncs the new file at commit instead, and
    only its own file holds the rows, not the WAL as well."""
    if conn.execute(Q["wal_level"]).fetchone()["level"] != "minimal":
        return []
    for table in tables:
        index = conn.execute(Q["primary_key_index"], {"table": table}).fetchone()["name"]
        conn.execute(sql.SQL("CLUSTER {} USING {}").format(sql.Identifier(table), sql.Identifier(index)))
        conn.execute(sql.SQL("ALTER TABLE {} SET WITHOUT CLUSTER").format(sql.Identifier(table)))
    return tables


def _drop_indexes(conn: psycopg.Connection, tables: list[str]) -> list[tuple[str, str]]:
    """Drop the indexes of `tables` that no foreign key needs (plain ones and unreferenced primary
    keys); (table, statement that rebuilds it)."""
    rebuild = []
    for table in tables:
        for index in conn.execute(Q["rebuildable_indexes"], {"table": table}).fetchall():
            if index["constraint_def"] is None:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index["name"])))
                rebuild.append((table, index["definition"]))
            else:
                conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.Identifier(table), sql.Identifier(index["name"])))
                rebuild.append((table, sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                    sql.Identifier(table), sql.Identifier(index["name"])).as_string(conn) + index["constraint_def"]))
    # GIN indexes last: a B-tree build writes its file past the shared buffers and it is synced at
    # commit, so built first it is written to disk by the kernel while the long GIN builds (whose
    # pages leave the shared buffers with backend_flush_after) still run, and the commit waits less.
    return sorted(rebuild, key=lambda item: " USING gin " in item[1])


def _rebuild(conn: psycopg.Connection, rebuild: list[tuple[str, str]], steps: dict[str, float]) -> None:
    for table, statement in rebuild:
        words = statement.split()
        # CREATE [UNIQUE] INDEX name ... | ALTER TABLE t ADD CONSTRAINT name ...
        name = words[5] if words[0] == "ALTER" else words[words.index("INDEX") + 1]
        with _timed(steps, name.strip('"') or table):
            conn.execute(statement)


Batches = Callable[[psycopg.Connection, int], Iterator[bulk_rows.Encoded]]


def _load(conn: psycopg.Connection, total: int, batches: Batches, advance) -> BulkResult:
    """Write `total` cases from `batches(conn, first case id)` in the caller's transaction `conn`."""
    started = time.perf_counter()
    try:
        conn.execute(Q["replica_role"])
    except psycopg.errors.InsufficientPrivilege as exc:
        raise BulkRefused(
            "Generating cases in bulk needs a superuser or `GRANT SET ON PARAMETER session_replication_role` "
            "for the hub's database user (it skips the row triggers and writes their results itself)") from exc
    # With every writer locked out, case ids can be handed out here and the sequence moved past them
    # at the end (history and note ids come from their sequences as the rows are copied).
    conn.execute(Q["lock_tables"])
    outgrown = _outgrown(conn, {
        "sag_sager": total, "sag_status_history": total * HISTORY_PER_CASE, "sag_notes": total * NOTES_PER_CASE,
        "sag_sla_clocks": total, "sag_watchers": total * WATCHERS_PER_CASE})
    frozen = set(_rewrite(conn, outgrown))
    conn.execute(Q["flush_early"])
    rebuild = _drop_indexes(conn, outgrown)
    first_case = conn.execute(Q["next_id"], {"table": "sag_sager"}).fetchone()["id"]
    n_cases = n_history = n_notes = 0
    steps: dict[str, float] = {}
    encoded = batches(conn, first_case)
    with conn.cursor() as cur:
        while True:
            with _timed(steps, "plans"):
                batch = next(encoded, None)
            if batch is None:
                break
            with _timed(steps, "copy"):
                for table, data in batch.data.items():
                    if data:
                        _copy(cur, table, data, table in frozen)
            n_cases += batch.cases
            n_history += batch.history
            n_notes += batch.notes
            advance(batch.cases)
    if n_cases != total:
        raise ValueError(f"expected {total} plans, got {n_cases}")
    last_case = first_case + total - 1
    conn.execute(Q["move_sequence"], {"table": "sag_sager", "last": last_case})
    span = {"first": first_case, "last": last_case}
    with _timed(steps, "schedule_deadlines"):
        conn.execute(Q["schedule_deadlines"], span)
    conn.execute(Q["index_memory"], {"mem": INDEX_BUILD_MEMORY, "workers": str(INDEX_BUILD_WORKERS)})
    _rebuild(conn, rebuild, steps)
    conn.execute(Q["default_role"])
    return BulkResult(n_cases, n_history, n_notes, first_case, round(time.perf_counter() - started, 2), steps)


def write_plans(conn: psycopg.Connection, plans_batches: Iterable[list[CasePlan]], total: int, *,
                advance=lambda n=1: None) -> BulkResult:
    """Write `total` cases from an iterable of plan lists, in the caller's transaction `conn`."""

    def batches(conn: psycopg.Connection, first_case: int) -> Iterator[bulk_rows.Encoded]:
        clocks = bulk_clocks.Clocks(bulk_clocks.load_rules(conn))
        for plans in plans_batches:
            words = note_words(conn, {note[1] for plan in plans for note in plan.notes})
            yield bulk_rows.encode(plans, first_case, words, clocks)
            first_case += len(plans)

    return _load(conn, total, batches, advance)


# What a producer process generates from (set once per process by _start_producer).
_producer: dict = {}


def _start_producer(seed: int, now: datetime, users: list[int], customers: list[int], texts: list[tuple[str, str]],
                    notes: list[str], words: dict[str, bulk_rows.NoteWords], rules: bulk_clocks.ClockRules) -> None:
    _producer.update(seed=seed, now=micros(now), users=users, customers=customers, texts=texts, notes=notes,
                     words=words, clocks=bulk_clocks.Clocks(rules))


def _produce(job: tuple[int, int, int]) -> bulk_rows.Encoded:
    """Batch `index`: `n` random stories (from their own seed, so the cases are the same however
    many processes generate them), encoded with case ids from `first_case`."""
    index, n, first_case = job
    p = _producer
    rng = random.Random(f"{p['seed']}:{index}")
    plans = [random_plan(rng, p["now"], p["users"], p["customers"], p["texts"], p["notes"]) for _ in range(n)]
    return bulk_rows.encode(plans, first_case, p["words"], p["clocks"])


def _random_batches(count: int, seed: int, now: datetime, users: list[int], customers: list[int], batch: int,
                    producers: int) -> Batches:
    def batches(conn: psycopg.Connection, first_case: int) -> Iterator[bulk_rows.Encoded]:
        rng = random.Random(seed)
        texts, notes = text_pool(rng), note_pool(rng)
        start = (seed, now, users, customers, texts, notes, note_words(conn, set(notes)), bulk_clocks.load_rules(conn))
        jobs = [(i, min(batch, count - i * batch), first_case + i * batch) for i in range(-(-count // batch))]
        if producers <= 1 or len(jobs) <= 1:
            _start_producer(*start)
            yield from map(_produce, jobs)
            return
        pool = ProcessPoolExecutor(producers, mp_context=get_context("spawn"), initializer=_start_producer,
                                   initargs=start)
        try:
            # A few batches ahead, not all: each waiting batch holds its rows in memory.
            ahead = 2 * producers
            waiting = deque(pool.submit(_produce, job) for job in jobs[:ahead])
            for job in jobs[ahead:] + [None] * len(waiting):
                done = waiting.popleft().result()
                if job is not None:
                    waiting.append(pool.submit(_produce, job))
                yield done
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    return batches


def _analyze(tables: tuple[str, ...]) -> None:
    with database.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, tables))))


def analyze() -> float:
    """ANALYZE the loaded tables (on len(ANALYZE_GROUPS) connections at once); the seconds it took."""
    started = time.perf_counter()
    with ThreadPoolExecutor(len(ANALYZE_GROUPS)) as pool:
        list(pool.map(_analyze, ANALYZE_GROUPS))
    return round(time.perf_counter() - started, 2)


def bulk_cases(count: int, *, seed: int = BULK_SEED, now: datetime | None = None,
               advance: Callable = lambda n=1: None, batch: int = BATCH, producers: int = PRODUCERS,
               analyzed: bool = True) -> BulkResult:
    """Generate and write `count` cases over the active users and customers, then ANALYZE (unless
    `analyzed` is False: the caller then runs `analyze()` itself, e.g. beside other work)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    refs = database.execute_query(Q["valid_refs"])[0]
    if not refs["users"]:
        raise BulkRefused("Generating cases needs at least one active user")
    batches = _random_batches(count, seed, now or datetime.now(UTC), refs["users"], refs["customers"], batch,
                              producers)
    with database.transaction() as conn:
        result = _load(conn, count, batches, advance)
        committing = time.perf_counter()
    result.steps["commit"] = round(time.perf_counter() - committing, 2)
    if analyzed:
        result.steps["analyze"] = analyze()
    result.seconds = round(result.seconds + time.perf_counter() - committing, 2)
    log.info("bulk: %d cases, %d history rows, %d notes in %.1f s (%s)", result.cases, result.history,
             result.notes, result.seconds, ", ".join(f"{k} {v} s" for k, v in result.steps.items()))
    return result


def fill_to(total: int, **kwargs) -> BulkResult | None:
    """Bulk-generate cases until the hub holds `total` cases; None when it holds that many already."""
    existing = database.execute_query(Q["count_cases"])[0]["n"]
    return bulk_cases(total - existing, **kwargs) if total > existing else None
