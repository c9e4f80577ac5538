"""Profile the reminder worker: the throughput bench's set-up (reminder_throughput.py), then one
worker in this process draining the queue under pyinstrument (the call tree, wall time), and
the SQL functions' calls and time inside the server (pg_stat_user_functions).

    .venv/bin/python bench/reminder_profile.py [--events 2000] [--batch 500] [--out profile.txt]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import reminder_throughput as rt
from _common import migrate_cases, throwaway_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--out", default="-")
    parser.add_argument("--outbox", type=Path, default=None,
                        help="write the .eml files under a fresh directory here (e.g. a tmpfs), not under /tmp")
    args = parser.parse_args()
    rt.os.environ.pop("SMTP_HOST", None)
    with contextlib.ExitStack() as stack, throwaway_database("bmc-bench-prof-"):
        from pyinstrument import Profiler

        from app.core import database
        from app.core.config import reset_settings
        from app.modules.sag.reminders import channels
        from app.modules.sag.reminders.worker import ReminderWorker

        if args.outbox:  # the .eml files only: the server stays in the temporary directory
            outbox = tempfile.mkdtemp(prefix="bmc-bench-prof-outbox-", dir=args.outbox)
            stack.callback(shutil.rmtree, outbox, ignore_errors=True)
            os.environ["DATA_DIR"] = outbox
            reset_settings()
        migrate_cases()
        ids = rt._fill(args.events)
        rt._make_rule()
        rt._queue_events(ids)
        with database.connect(autocommit=True) as conn:
            conn.execute("ANALYZE")
        # As `bmc-hub worker` (and reminder_throughput.py's workers): the modules loaded, what is
        # loaded by now frozen out of the collector's full passes, then the worker connects.
        channels.registry()
        gc.collect()
        gc.freeze()
        w = ReminderWorker(batch_size=args.batch)
        w._connect()
        w.conn.execute("SET track_functions = 'all'")
        w.conn.commit()
        prof = Profiler(interval=0.0005)
        start = time.perf_counter()
        prof.start()
        n = 0
        while (out := w.run_once()).claimed:
            n += out.claimed
        prof.stop()
        elapsed = time.perf_counter() - start
        w.close()
        print(f"{n} events in {elapsed:.3f}s", file=sys.stderr)
        text = prof.output_text(unicode=False, color=False, show_all=False)
        if args.out == "-":
            print(text)
        else:
            Path(args.out).write_text(text, encoding="utf-8")
        rows = database.execute_query(
            "SELECT funcname, calls, round(total_time::numeric, 1) AS total_ms, "
            "round(self_time::numeric, 1) AS self_ms FROM pg_stat_user_functions ORDER BY total_time DESC LIMIT 15")
        for r in rows:
            print(r, file=sys.stderr)


if __name__ == "__main__":
    main()
