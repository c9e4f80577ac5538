"""Benchmark: reminder engine throughput and the cost of its triggers on status updates.

Starts a throwaway embedded PostgreSQL in a temporary directory (never ./var), applies the
migrations, creates 10,000 open cases and 40 technicians, and a status-change rule with two
recipients per case (assignee and creator, in-app). Then:

1. trigger overhead: the same 10,000 status updates (single-row UPDATE statements, committed
   every 100, as the app issues them) with the reminder triggers disabled and no rules, then
   with triggers and rules in place: `trigger_overhead_ratio` = with / without.
2. throughput: the 10,000 queued events processed by 1 and then by 2 worker processes
   (real `ReminderWorker`s, started together, each exiting when the queue is empty).

Prints one JSON line; the top-level figures are those of 2 workers, `runs` has both:

    {"workers": 2, "events_per_s": ..., "notifications_per_s": ..., "trigger_overhead_ratio": ...,
     "runs": [{"workers": 1, ...}, {"workers": 2, ...}], "events": 10000}

    .venv/bin/python bench/reminder_throughput.py [--events 10000] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

USERS = 40
COMMIT_EVERY = 100
REMINDER_TRIGGERS = ("sag_sager_status_reminders", "sag_sager_schedule_reminders")
MAX_PER_HOUR = 1000  # the highest cap a user may set; each user gets 2 x events / USERS

CHILD = """
import sys, time
from app.modules.sag.backend.worker import ReminderWorker
w = ReminderWorker(batch_size=int(sys.argv[1]))
w._connect()
print("ready", flush=True)
sys.stdin.readline()
while w.run_once().claimed:
    pass
w.close()
"""


def _environment(tmp: Path) -> Path:
    os.environ.pop("DATABASE_URL", None)
    os.environ.update({"DATA_DIR": str(tmp / "var"), "LOG_FILE": str(tmp / "logs" / "app.log"),
                       "SECRET_KEY": "bench-" + uuid.uuid4().hex, "LOG_LEVEL": "WARNING"})
    from app.core import embedded
    from app.core.config import reset_settings

    url = embedded.ensure_running(tmp / "var", fast=True)
    os.environ["DATABASE_URL"] = url
    reset_settings()
    return (tmp / "var" / "pgdata").resolve()


def _migrate() -> None:
    from app.core import migrations

    migrations.migrate_core()
    migrations.apply_migrations("sag", ROOT / "app" / "modules" / "sag" / "migrations")


def _fill(n: int) -> list[int]:
    from app.core import database

    users = []
    for i in range(USERS):
        users.append(database.execute_insert(
            "INSERT INTO users (username, email, full_name, role) VALUES (%s, %s, %s, 'user')",
            (f"tech{i}", f"tech{i}@bench.test", f"Technician {i}")))
    database.execute_update("UPDATE user_notification_preferences SET max_per_hour = %s", (MAX_PER_HOUR,))
    half = USERS // 2
    with database.transaction() as conn:
        with conn.cursor().copy("COPY sag_sager (title, description, status, assigned_to, created_by) FROM STDIN") as cp:
            for i in range(n):
                cp.write_row((f"Bench case {i}", "Printer on floor 2 is offline", "new",
                              users[i % half], users[half + i % half]))
    return [r["id"] for r in database.execute_query("SELECT id FROM sag_sager ORDER BY id")]


def _status_updates(conn, ids: list[int], status: str) -> float:
    start = time.perf_counter()
    for i, case_id in enumerate(ids, start=1):
        conn.execute("UPDATE sag_sager SET status = %s WHERE id = %s", (status, case_id))
        if i % COMMIT_EVERY == 0:
            conn.commit()
    conn.commit()
    return time.perf_counter() - start


def _reset(conn) -> None:
    """Cases back to 'new' and an empty queue, without firing anything."""
    conn.execute("ALTER TABLE sag_sager DISABLE TRIGGER sag_sager_status_reminders")
    conn.execute("UPDATE sag_sager SET status = 'new'")
    conn.execute("ALTER TABLE sag_sager ENABLE TRIGGER sag_sager_status_reminders")
    conn.execute("TRUNCATE sag_reminder_logs, sag_reminder_queue, sag_reminder_rate, sag_status_history")
    conn.commit()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE")
    conn.autocommit = False


def _make_rule() -> None:
    from app.modules.sag.backend import reminders_store

    reminders_store.create_rule({"name": "Bench: started", "trigger_type": "status_change",
                                 "trigger_config": {"from": "new", "to": "in_progress"},
                                 "recipients": {"assignee": True, "creator": True}, "channels": ["in_app"],
                                 "title_template": "#{{ case.number }} {{ case.title }} is in progress",
                                 "message_template": "Status went from {{ old_status }} to {{ new_status }}."},
                                None)


def _overhead(ids: list[int]) -> tuple[float, float]:
    from app.core import database

    with database.connect() as conn:
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        conn.autocommit = False
        # without: the reminder triggers off, no rules (the case module's own triggers stay on)
        for trigger in REMINDER_TRIGGERS:
            conn.execute(f"ALTER TABLE sag_sager DISABLE TRIGGER {trigger}")
        conn.commit()
        _status_updates(conn, ids[:1000], "in_progress")  # warm-up
        conn.execute("UPDATE sag_sager SET status = 'new'")
        conn.commit()
        without = _status_updates(conn, ids, "in_progress")
        conn.execute("UPDATE sag_sager SET status = 'new'")
        for trigger in REMINDER_TRIGGERS:
            conn.execute(f"ALTER TABLE sag_sager ENABLE TRIGGER {trigger}")
        conn.execute("TRUNCATE sag_status_history")
        conn.commit()
    return without, 0.0


def _run_workers(n_workers: int, batch: int) -> float:
    """Start the workers, let them connect, release them together; seconds until all are done."""
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(batch)], cwd=ROOT, env=dict(os.environ),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(n_workers)]
    for p in procs:
        if p.stdout.readline().strip() != "ready":
            raise SystemExit("a worker did not start")
    start = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        p.wait()
        if p.returncode:
            raise SystemExit(f"worker exited with {p.returncode}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bmc-bench-rem-"))
    pgdata = None
    try:
        pgdata = _environment(tmp)
        from app.core import database, embedded

        _migrate()
        ids = _fill(args.events)
        without, _ = _overhead(ids)
        _make_rule()
        runs = []
        ratio = None
        for n_workers in [int(x) for x in args.workers.split(",")]:
            with database.connect() as conn:
                _reset(conn) if runs else None
                took = _status_updates(conn, ids, "in_progress")
                if ratio is None:
                    ratio = took / without
            with database.connect(autocommit=True) as conn:
                conn.execute("ANALYZE")  # what autovacuum does on a live system after such a burst
            queued = database.execute_query("SELECT count(*) AS n FROM sag_reminder_queue WHERE status = 'pending'")
            elapsed = _run_workers(n_workers, args.batch)
            counts = database.execute_query(
                "SELECT (SELECT count(*) FROM sag_reminder_queue WHERE status = 'sent') AS events, "
                "(SELECT count(*) FROM sag_reminder_logs WHERE status = 'sent') AS notifications, "
                "(SELECT count(*) FROM sag_reminder_queue WHERE status <> 'sent') AS left_over")[0]
            if counts["left_over"] or counts["events"] != queued[0]["n"]:
                raise SystemExit(f"queue not fully processed: {counts}")
            print(f"workers={n_workers}: {counts} in {elapsed:.3f}s", file=sys.stderr)
            runs.append({"workers": n_workers, "events_per_s": round(counts["events"] / elapsed),
                         "notifications_per_s": round(counts["notifications"] / elapsed),
                         "seconds": round(elapsed, 3), "events": counts["events"],
                         "notifications": counts["notifications"]})
        best = runs[-1]
        print(json.dumps({"workers": best["workers"], "events_per_s": best["events_per_s"],
                          "notifications_per_s": best["notifications_per_s"],
                          "trigger_overhead_ratio": round(ratio, 3), "runs": runs, "events": args.events,
                          "status_updates_s_without": round(without, 3)}))
        database.close_pool()
    finally:
        if pgdata is not None:
            from app.core import embedded

            embedded.release(pgdata)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
