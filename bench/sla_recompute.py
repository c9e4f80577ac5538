"""Benchmark: recomputing SLA clocks after a calendar change, and the cost of SLA tracking on
status updates.

Starts a throwaway embedded PostgreSQL in a temporary directory (never ./var), applies the
migrations, creates a Danish office calendar (the default), a default SLA policy and one for
urgent cases (pausing in `waiting_customer` and `on_hold`), and 100,000 open cases created over
the last 60 days: a third still `new`, the rest answered 30 minutes after creation, one in ten
of those on hold since 3 hours after creation (so their clocks have paused time).

1. recompute: one calendar change through the calendar store (`calendars.update_calendar`:
   weekdays an hour longer, so every due time after a case's first day moves). That validates, writes
   the calendar's spans again and recomputes the clocks of every open case on it, in one
   transaction; `recompute_s` is its wall time (median of `--repeat` changes, alternately to
   the longer hours and back). The clocks are checked to have moved.
2. status update ratio: status updates of `--updates` of those cases (single-row UPDATEs
   committed every 100, as the app issues them) with the SLA trigger (`sag_sager_update_sla`)
   on and off, measured like `trigger_overhead_ratio` in reminder_throughput.py: rounds of two
   passes over the cases in chunks whose trigger is switched on for every other chunk (the
   second pass the other way round), cost = CPU seconds of the client plus its server backend;
   `status_update_ratio` = the median of the rounds' with / without. The case module's other
   triggers (status history, reminders) run on both sides.

Prints one JSON line:

    {"cases": 100000, "recompute_s": ..., "status_update_ratio": ..., ...}

    .venv/bin/python bench/sla_recompute.py [--cases 100000] [--updates 4000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import migrate_cases, throwaway_database

COMMIT_EVERY = 100
CHUNK = 500  # status updates between switching the SLA trigger on or off (a multiple of COMMIT_EVERY)
SLA_TRIGGER = "sag_sager_update_sla"
CASE_AGE_DAYS = 60
OFFICE = [{"start": "08:00", "end": "12:00"}, {"start": "12:30", "end": "16:00"}]
# The calendar change: an hour longer every weekday, so every due time after the first day moves.
LONGER = [{"start": "08:00", "end": "12:00"}, {"start": "12:30", "end": "17:00"}]


def _setup() -> int:
    """The calendar (its id) and the two policies."""
    from app.core import database
    from app.modules.sag.sla import calendars

    cal = calendars.create_calendar(calendars.CalendarIn(
        name="Denmark", weekly_hours={d: OFFICE for d in ("mon", "tue", "wed", "thu", "fri")}))
    for name, priority, response, resolution in (("Standard", None, 240, 2400), ("Urgent", "urgent", 30, 480)):
        policy = database.execute_insert(
            "INSERT INTO sag_sla_policies (name, priority, response_minutes, resolution_minutes) "
            "VALUES (%s, %s, %s, %s) RETURNING id", (name, priority, response, resolution))
        database.execute_update("INSERT INTO sag_sla_pause_statuses (policy_id, status) "
                                "VALUES (%s, 'waiting_customer'), (%s, 'on_hold')", (policy, policy))
    return cal["id"]


# Recomputing clocks: set-based where the function exists, else case by case (so the script
# also measures a baseline without it).
REFRESH_ALL = {True: "SELECT sag_sla_refresh_cases(ARRAY(SELECT id FROM sag_sager))",
               False: "SELECT count(sag_sla_refresh(id)) FROM sag_sager"}
REFRESH_IDS = {True: "SELECT sag_sla_refresh_cases(%s::integer[])",
               False: "SELECT count(sag_sla_refresh(id)) FROM unnest(%s::integer[]) AS id"}


def _set_based() -> bool:
    from app.core import database

    return database.execute_query("SELECT to_regproc('sag_sla_refresh_cases') IS NOT NULL AS ok")[0]["ok"]


def _fill(n: int) -> None:
    """n open cases with their status history, written in bulk; then every clock, once."""
    from app.core import database

    user = database.execute_insert("INSERT INTO users (username, email, role) VALUES ('bench', 'b@bench.test', "
                                   "'user') RETURNING id")
    now = datetime.now(UTC)
    priorities = ("low", "normal", "normal", "high", "urgent")
    with database.transaction() as conn:
        # The rows and their history in bulk (the case triggers would do the same row by row).
        conn.execute("ALTER TABLE sag_sager DISABLE TRIGGER USER")
        with conn.cursor().copy("COPY sag_sager (title, status, priority, created_by, created_at) FROM STDIN") as cp:
            for i in range(n):
                cp.write_row((f"Bench case {i}", "new", priorities[i % len(priorities)], user,
                              now - timedelta(days=CASE_AGE_DAYS * (i + 1) / n)))
        conn.execute("INSERT INTO sag_status_history (sag_id, from_status, to_status, changed_by, changed_at) "
                     "SELECT id, NULL, 'new', created_by, created_at FROM sag_sager")
        # Answered 30 minutes in (two thirds), on hold from 3 hours in (one in ten of those).
        conn.execute("INSERT INTO sag_status_history (sag_id, from_status, to_status, changed_at) "
                     "SELECT id, 'new', 'in_progress', created_at + interval '30 minutes' FROM sag_sager "
                     "WHERE id % 3 <> 0")
        conn.execute("INSERT INTO sag_status_history (sag_id, from_status, to_status, changed_at) "
                     "SELECT id, 'in_progress', 'on_hold', created_at + interval '3 hours' FROM sag_sager "
                     "WHERE id % 3 <> 0 AND id % 10 = 1")
        conn.execute("UPDATE sag_sager SET status = CASE WHEN id % 10 = 1 THEN 'on_hold' ELSE 'in_progress' END "
                     "WHERE id % 3 <> 0")
        conn.execute("ALTER TABLE sag_sager ENABLE TRIGGER USER")
        # Statistics first: planned without them, the first recompute joined the history row by row.
        conn.execute("ANALYZE sag_sager, sag_status_history")
        conn.execute(REFRESH_ALL[_set_based()])
    with database.connect(autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _recompute(cal_id: int, repeat: int) -> tuple[float, int]:
    """Median seconds of a calendar change (an hour longer on weekdays, then back, ...) and how
    many clocks the first one moved."""
    from app.core import database
    from app.modules.sag.sla import calendars

    seconds, moved = [], None
    for r in range(repeat):
        before = database.execute_query("SELECT md5(string_agg(resolution_due_at::text, ',' ORDER BY sag_id)) AS h "
                                        "FROM sag_sla_clocks")[0]["h"]
        start = time.perf_counter()
        hours = LONGER if r % 2 == 0 else OFFICE
        calendars.update_calendar(cal_id, calendars.CalendarPatch(
            weekly_hours={d: hours for d in ("mon", "tue", "wed", "thu", "fri")}))
        seconds.append(time.perf_counter() - start)
        after = database.execute_query("SELECT md5(string_agg(resolution_due_at::text, ',' ORDER BY sag_id)) AS h "
                                       "FROM sag_sla_clocks")[0]["h"]
        if after == before:
            raise SystemExit("the calendar change moved no clock")
        if moved is None:
            moved = database.execute_query("SELECT count(*) AS n FROM sag_sla_clocks WHERE updated_at > %s",
                                           (database.execute_query("SELECT now() - make_interval(secs => %s) AS t",
                                                                   (seconds[-1] + 1,))[0]["t"],))[0]["n"]
        with database.connect(autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE sag_sla_clocks")
    print(f"calendar changes (s): {[round(s, 3) for s in seconds]}", file=sys.stderr)
    return statistics.median(seconds), moved


def _backend_cpu_s(pid: int) -> float:
    """CPU seconds used so far by a server process (/proc schedstat, nanoseconds; else /proc stat)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _updates(conn, pid: int, ids: list[int], status: str) -> float:
    """Client plus server CPU seconds for one status update per case."""
    conn.commit()
    cpu0, server0 = time.process_time(), _backend_cpu_s(pid)
    for i, case_id in enumerate(ids, start=1):
        conn.execute("UPDATE sag_sager SET status = %s WHERE id = %s", (status, case_id))
        if i % COMMIT_EVERY == 0:
            conn.commit()
    conn.commit()
    return time.process_time() - cpu0 + _backend_cpu_s(pid) - server0


def _set_trigger(conn, enabled: bool) -> None:
    conn.execute(f"ALTER TABLE sag_sager {'ENABLE' if enabled else 'DISABLE'} TRIGGER {SLA_TRIGGER}")
    conn.commit()


def _reset(conn, ids: list[int]) -> None:
    """The cases back to `new` with their history and clocks as before, without firing anything."""
    conn.execute("ALTER TABLE sag_sager DISABLE TRIGGER USER")
    conn.execute("UPDATE sag_sager SET status = 'new' WHERE id = ANY(%s)", (ids,))
    conn.execute("ALTER TABLE sag_sager ENABLE TRIGGER USER")
    conn.execute("DELETE FROM sag_status_history WHERE sag_id = ANY(%s) AND from_status IS NOT NULL", (ids,))
    conn.execute(REFRESH_IDS[_set_based()], (ids,))
    conn.commit()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE sag_sager, sag_status_history, sag_sla_clocks")
    conn.autocommit = False


def _pass(ids: list[int], first_with: bool) -> dict[bool, float]:
    """Reset, then every case's status update once, the SLA trigger on for every other chunk."""
    from app.core import database

    totals = {True: 0.0, False: 0.0}
    with database.connect() as conn:
        _reset(conn, ids)
        pid = conn.execute("SELECT pg_backend_pid() AS p").fetchone()["p"]
        try:
            for n, start in enumerate(range(0, len(ids), CHUNK)):
                on = (n % 2 == 0) == first_with
                _set_trigger(conn, on)
                totals[on] += _updates(conn, pid, ids[start:start + CHUNK], "in_progress")
        finally:
            _set_trigger(conn, True)
    return totals


def _status_update_ratio(ids: list[int], rounds: int) -> tuple[float, list[float], dict[str, float]]:
    ratios, without, with_ = [], [], []
    for r in range(rounds):
        wo = w = 0.0
        for first_with in ((True, False) if r % 2 == 0 else (False, True)):
            totals = _pass(ids, first_with)
            wo += totals[False]
            w += totals[True]
        ratios.append(w / wo)
        without.append(wo)
        with_.append(w)
    return statistics.median(ratios), ratios, {"without": round(min(without), 3), "with": round(min(with_), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--updates", type=int, default=4000, help="cases whose status is updated (ratio)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="calendar changes timed")
    args = parser.parse_args()
    with throwaway_database("bmc-bench-sla-"):
        from app.core import database

        migrate_cases()
        cal_id = _setup()
        start = time.perf_counter()
        _fill(args.cases)
        print(f"{args.cases} cases in {time.perf_counter() - start:.1f}s", file=sys.stderr)
        recompute_s, moved = _recompute(cal_id, args.repeat)
        ids = [r["id"] for r in database.execute_query(
            "SELECT id FROM sag_sager WHERE id %% 3 = 0 ORDER BY id LIMIT %s", (args.updates,))]
        ratio, ratios, cpu = _status_update_ratio(ids, args.rounds)
        print(json.dumps({"cases": args.cases, "recompute_s": round(recompute_s, 3),
                          "status_update_ratio": round(ratio, 3),
                          "clocks_moved": moved, "status_update_ratio_rounds": [round(x, 3) for x in ratios],
                          "status_updates": len(ids), "status_updates_cpu_s": cpu}))


if __name__ == "__main__":
    main()
