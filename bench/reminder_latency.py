"""Benchmark: latency from a status-change commit to the reminder's log row, with an idle worker.

Starts a throwaway embedded PostgreSQL in a temporary directory (never ./var), applies the
migrations, creates cases and a status-change rule (assignee, in-app), and starts one real
worker process (`ReminderWorker.run`, sleeping on LISTEN). Then EVENTS times: commit one
status change, and wait for the log row's notification on `bmc_user_notifications` (sent by
the log table's trigger in the transaction that writes the row, so it arrives when the row is
committed). Events are spaced so the worker is idle each time. Prints one JSON line:

    {"events": 200, "p50_ms": ..., "p99_ms": ..., "max_ms": ...}

    .venv/bin/python bench/reminder_latency.py [--events 200] [--watched] [--durable]

Idle means idle: the assignee does not watch the bench's cases. A watched case's status change
also queues watched-case news, due 5 s later (conversation/functions/sag_sager_queue_watch_status.sql);
at one change every ~60 ms the worker would be handling an earlier change's news (3-4 ms) when
about one measured change in 20 commits, which is load, not an idle worker's latency.
`--watched` keeps the assignee watching (and measures that). `--durable`: the server waits for
the disk on commit (fsync and synchronous_commit on, as in production); without it, as the
other benchmarks, it does not.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from _common import ROOT, migrate_cases, stop_process, throwaway_database

IDLE_GAP_S = 0.05     # pause between events so each one meets an idle worker
TIMEOUT_S = 10.0
WARMUP = 5

CHILD = """
import gc, sys, threading
from app.modules.sag.reminders.worker import ReminderWorker
stop = threading.Event()
w = ReminderWorker()
w._connect()
gc.collect(); gc.freeze()  # as `bmc-hub worker` and `serve` do once they are loaded
print("ready", flush=True)
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
w.run(stop)
"""


def _setup(n: int, watched: bool = False) -> tuple[int, list[int]]:
    from app.core import database
    from app.modules.sag.reminders import store as reminders_store

    migrate_cases()
    user = database.execute_insert(
        "INSERT INTO users (username, email, role) VALUES ('tech', 'tech@bench.test', 'user')")
    database.execute_update("UPDATE user_notification_preferences SET max_per_hour = 1000")
    ids = [database.execute_insert("INSERT INTO sag_sager (title, assigned_to) VALUES (%s, %s)", (f"Case {i}", user))
           for i in range(n)]
    reminders_store.create_rule({"name": "Latency", "trigger_type": "status_change",
                                 "trigger_config": {"from": "new", "to": "in_progress"},
                                 "recipients": {"assignee": True}, "channels": ["in_app"],
                                 "title_template": "{{ case.title }} started"}, None)
    if not watched:
        # The assignee became a watcher with the assignment; unwatching is the user's own choice.
        database.execute_update("UPDATE sag_watchers SET unwatched = TRUE")
    with database.connect(autocommit=True) as conn:
        conn.execute("ANALYZE")
    return user, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--watched", action="store_true", help="the assignee watches the cases (see above)")
    parser.add_argument("--durable", action="store_true", help="commits wait for the disk, as in production")
    args = parser.parse_args()
    child = None
    with throwaway_database("bmc-bench-lat-", durable=args.durable):
        try:
            from app.core import database

            _user, ids = _setup(args.events + WARMUP, args.watched)
            child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=dict(os.environ),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            if child.stdout.readline().strip() != "ready":
                raise SystemExit("worker did not start")
            latencies = []
            with database.connect(autocommit=True) as listen, database.connect() as conn:
                listen.execute("LISTEN bmc_user_notifications")
                time.sleep(0.3)
                for i, case_id in enumerate(ids):
                    time.sleep(IDLE_GAP_S)
                    conn.execute("UPDATE sag_sager SET status = 'in_progress' WHERE id = %s", (case_id,))
                    conn.commit()
                    committed = time.perf_counter()
                    got = None
                    for note in listen.notifies(timeout=TIMEOUT_S, stop_after=1):
                        got = note
                    arrived = time.perf_counter()
                    if got is None:
                        raise SystemExit(f"no log row within {TIMEOUT_S}s for case {case_id}")
                    if i >= WARMUP:
                        latencies.append((arrived - committed) * 1000)
            written = database.execute_query("SELECT count(*) AS n FROM sag_reminder_logs")[0]["n"]
            if written != len(ids):
                raise SystemExit(f"expected {len(ids)} log rows, found {written}")
            latencies.sort()
            p99 = latencies[min(len(latencies) - 1, int(round(0.99 * len(latencies))) - 1)]
            print(json.dumps({"events": len(latencies), "p50_ms": round(statistics.median(latencies), 2),
                              "p99_ms": round(p99, 2), "max_ms": round(latencies[-1], 2)}))
        finally:
            if child is not None:
                stop_process(child, 10, stdin_line="stop\n")


if __name__ == "__main__":
    main()
