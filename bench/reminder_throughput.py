"""Benchmark: reminder engine throughput and the cost of its triggers on status updates.

Starts a throwaway embedded PostgreSQL in a temporary directory (never ./var), applies the
migrations, creates 10,000 open cases and 40 technicians, and a status-change rule with two
recipients per case (assignee and creator) on both built-in channels, in-app and e-mail (to the
`.eml` file backend: no SMTP_HOST; its files on a tmpfs when there is one, MEMORY_OUTBOX),
everything switched on as in production: each user's preferences have per-trigger overrides
(e-mail is off by the user's switch and back on for status changes by the override), quiet
hours (an hour far from now, so they are evaluated for every row but hold nothing back) and an
hourly limit high enough that every reminder is granted (the limit is reserved and counted for
every one). So each event is four notifications: two in-app rows, sent when written, and two
e-mails handed to the transport.
Then:

1. trigger overhead: every case's status update (single-row UPDATE statements, committed
   every 100, as the app issues them) with the reminder triggers disabled, and with the triggers
   and the rule in place: the same rows and statements on both sides. Five rounds; a round is
   two passes over all 10,000 cases in chunks of 500 whose triggers are switched on for every
   other chunk (the second pass the other way round), so each side updates every case once, in
   the same table states, and load that comes and goes on this shared machine hits both sides
   alike. Cost = CPU seconds of the client process + its server backend (/proc schedstat,
   nanoseconds): on a shared 2-core machine wall time swings several-fold with other load, CPU
   time much less. `trigger_overhead_ratio` = the median of the rounds' with / without; also
   printed: each round's ratio, the ratio of the best round of each side, of backend CPU only,
   of wall time, and the trigger function's own mean cost per status update measured inside
   the server (`pg_stat_user_functions`, track_functions = all on both sides; median of the
   rounds, microseconds of wall time; the trigger machinery around the call is not in it).
   The case module's own triggers (status history ...) run on both sides.
2. throughput: the 10,000 queued events processed by 1 and then by 2 worker processes
   (real `ReminderWorker`s, started together, each exiting when the queue is empty).
   Each run also prints the CPU it took per event: the workers' own (`worker_cpu_us_per_event`,
   start-up left out) and the whole server's (`server_cpu_us_per_event`: its processes, and
   the backends that exited, from /proc; from when the workers are connected, as pgqueuer's),
   and what creating one small file in the run's outbox directory cost just before
   (`file_create_us`, see PROBE_FILES).
3. the pgqueuer no-op baseline on the same server (bench/_pgqueuer_noop.py): 20,000 jobs that
   do nothing, batch size 100, 2 worker processes.

Steps 2 and 3 run in PAIRS pairs (`--pairs`), the order within a pair alternating (ours first in
the first pair, pgqueuer's in the second ...): on this shared host the machine's speed swings
from minute to minute, so a baseline measured once, after our run, met another machine. (Our runs
after pgqueuer's were also dearer, by a third, until the tenth round: pgqueuer's set-up analyzes
the whole database while our previous run's events and log rows are still there, the statistics
a live hub has, and two of the engine's statements planned badly with them; they no longer do,
docs/reminders.md, "Tenth round".) `ratio_vs_pgqueuer` = the median of the
pairs' ratios, our notifications_per_s (2 workers) / pgqueuer's jobs/s (each pair's in
`ratio_vs_pgqueuer_pairs`); `notifications_per_s` and `pgqueuer_noop_jobs_per_s` are the medians
of each side's runs. `ratio_vs_pgqueuer_cpu`: pgqueuer's CPU per job (workers and server) / ours
per notification, the median pair's; what the throughput ratio tends to when both sides keep
the two cores busy, and steadier.

Our worker processes are set up as `bmc-hub worker` sets up its own: the modules loaded, then
`app.core.worker.settle()` (`gc.collect(); gc.freeze()`, and young collections every 10,000
objects rather than 700, since the eleventh round), then the worker connects and warms up. (Up to the eighth round the
benchmark's workers skipped the freeze: every full collection then walked the ~100,000 objects
of the loaded app, a fifth of the workers' CPU, and the interpreter's last collection at exit
took 0.25-0.4 s of a 1.5 s run.) Both sides are timed the same way: from releasing the workers
until the last of them reports the queue drained (a line each prints as soon as it finds
nothing left); the interpreter's teardown after that is neither side's work. The figures until
the processes have exited are printed too (`notifications_per_s_to_exit`,
`pgqueuer_noop_jobs_per_s_to_exit`, `ratio_vs_pgqueuer_to_exit`).

Prints one JSON line; the top-level figures are those of 2 workers, `runs` has both:

    {"workers": 2, "events_per_s": ..., "notifications_per_s": ..., "trigger_overhead_ratio": ...,
     "runs": [{"workers": 1, ...}, {"workers": 2, ...}], "events": 10000,
     "pgqueuer_noop_jobs_per_s": ..., "ratio_vs_pgqueuer": ..., "ratio_vs_pgqueuer_pairs": [...],
     "ratio_vs_pgqueuer_cpu": ..., "outbox_fs": "tmpfs", ...}

    .venv/bin/python bench/reminder_throughput.py [--events 10000] [--workers 1,2] [--pairs 4] [--pgqueuer-jobs 20000]
        [--channels in_app,email] [--outbox DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import ROOT, migrate_cases, release_workers, throwaway_database
from _pgqueuer_noop import pgqueuer_noop_jobs_per_s
from psycopg.types.json import Jsonb

USERS = 40
COMMIT_EVERY = 100
ROUNDS = 5
CHUNK = 500  # status updates between switching the reminder triggers on or off (a multiple of COMMIT_EVERY)
# The reminders' one trigger on case updates (status firings and time-based (re)scheduling).
REMINDER_TRIGGERS = ("sag_sager_schedule_reminders",)
MAX_PER_HOUR = 1000  # the highest cap a user may set; each user gets 2 x events / USERS
# E-mail off by the user's switch, on again for status changes by the per-trigger override.
OVERRIDES = {"status_change": {"email": True, "in_app": True}, "deadline": {"email": False}}
QUIET_HOURS_FROM_NOW_H = 12  # the users' quiet hour starts this far from now (never now)
CHANNELS = ["in_app", "email"]
PGQUEUER_JOBS = 20_000
PGQUEUER_BATCH = 100
PGQUEUER_WORKERS = 2
PAIRS = 4  # our run and pgqueuer's, each pair in the other order; the headline: the median pair's ratio
# Each run's workers write their .eml files into a directory of their own, and nothing is deleted
# until the benchmark ends. On an ext4 without a journal (this machine's) the kernel skips, on every
# file creation, each inode of the block group freed in the last 1-6 minutes (ext4's
# recently_deleted(), perf: 60-90 % of the open() time): deleting the previous run's 20,000 files
# made the next run's creations cost ~0.7-1 ms each instead of ~0.05-0.1 ms, a cost of the
# benchmark's clean-up that a hub, which never deletes its outbox, does not have.
PROBE_FILES = 300  # files created (and kept) before each run to print what creating one costs now
# Where the runs' .eml files go unless --outbox says otherwise: a memory file system when there is
# one. pgqueuer's no-op jobs create no files, so the ratio should not carry what creating one costs
# on this VM's disk at that minute: 27-40 µs a file when nothing was deleted near it lately, up to
# ~800 µs after a deletion (the previous run's clean-up; see above), where a tmpfs takes 15-20. The
# backend's code is the same either way; `outbox_fs` in the JSON line says which it was, and
# `--outbox DIR` puts the files on any other file system (docs/reminders.md, "Twelfth round").
MEMORY_OUTBOX = Path("/dev/shm")

CHILD = """
import sys, time
from app.core.worker import settle
from app.modules.sag.reminders import channels
from app.modules.sag.reminders.worker import ReminderWorker
w = ReminderWorker(batch_size=int(sys.argv[1]))
# As `bmc-hub worker`: the modules loaded, then the process settled (what is loaded by now
# frozen, out of the collector's full passes; young collections rarer), then the worker
# connects and warms up.
channels.registry()
settle()
w._connect()
print("ready", flush=True)
sys.stdin.readline()
cpu = time.process_time()
while w.run_once().claimed:
    pass
# The queue is drained: the line marks the end of the work (the parent times it), then the
# worker's CPU seconds for the queue, start-up left out.
print(time.process_time() - cpu, flush=True)
w.close()
"""


def _fill(n: int) -> list[int]:
    from app.core import database

    users = []
    for i in range(USERS):
        users.append(database.execute_insert(
            "INSERT INTO users (username, email, full_name, role) VALUES (%s, %s, %s, 'user')",
            (f"tech{i}", f"tech{i}@bench.test", f"Technician {i}")))
    quiet_start = (datetime.now(UTC) + timedelta(hours=QUIET_HOURS_FROM_NOW_H)).replace(minute=0, second=0,
                                                                                       microsecond=0)
    database.execute_update(
        "UPDATE user_notification_preferences SET max_per_hour = %s, email_enabled = FALSE, "
        "trigger_overrides = %s, quiet_hours_start = %s, quiet_hours_end = %s",
        (MAX_PER_HOUR, Jsonb(OVERRIDES), quiet_start.time(), (quiet_start + timedelta(hours=1)).time()))
    half = USERS // 2
    with database.transaction() as conn:
        copy_sql = "COPY sag_sager (title, description, status, assigned_to, created_by) FROM STDIN"
        with conn.cursor().copy(copy_sql) as cp:
            for i in range(n):
                cp.write_row((f"Bench case {i}", "Printer on floor 2 is offline", "new",
                              users[i % half], users[half + i % half]))
    # The assignee and the creator watch their cases (automatically); their watched-case news of
    # the same status change would be a second event per change, told apart from the rule's
    # reminder only after a settling delay. Measured here: the rule's firings alone, as before.
    database.execute_update("UPDATE sag_watchers SET unwatched = TRUE")
    return [r["id"] for r in database.execute_query("SELECT id FROM sag_sager ORDER BY id")]


def _backend_pid(conn) -> int:
    return conn.execute("SELECT pg_backend_pid()").fetchone()["pg_backend_pid"]


def _backend_cpu_s(pid: int) -> float:
    """CPU seconds used so far by a server process: /proc schedstat (nanoseconds; exact for a
    backend that is waiting for its next statement), else /proc stat (clock ticks)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status_updates(conn, pid: int, ids: list[int], status: str) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of client and server, CPU seconds of the server) for the updates."""
    conn.commit()
    cpu0, server0, start = time.process_time(), _backend_cpu_s(pid), time.perf_counter()
    for i, case_id in enumerate(ids, start=1):
        conn.execute("UPDATE sag_sager SET status = %s WHERE id = %s", (status, case_id))
        if i % COMMIT_EVERY == 0:
            conn.commit()
    conn.commit()
    wall = time.perf_counter() - start
    client, server = time.process_time() - cpu0, _backend_cpu_s(pid) - server0
    return wall, client + server, server


def _set_triggers(conn, enabled: bool) -> None:
    for trigger in REMINDER_TRIGGERS:
        conn.execute(f"ALTER TABLE sag_sager {'ENABLE' if enabled else 'DISABLE'} TRIGGER {trigger}")
    conn.commit()


def _reset(conn) -> None:
    """Cases back to 'new', empty queue and logs, without firing anything."""
    _set_triggers(conn, False)
    conn.execute("UPDATE sag_sager SET status = 'new'")
    _set_triggers(conn, True)
    conn.execute("TRUNCATE sag_reminder_logs, sag_reminder_queue, sag_reminder_inbox, sag_reminder_rate, "
                 "sag_status_history")
    conn.commit()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE")
    conn.autocommit = False


def _make_rule(channels: list[str] = CHANNELS) -> None:
    from app.modules.sag.reminders import store as reminders_store

    reminders_store.create_rule({"name": "Bench: started", "trigger_type": "status_change",
                                 "trigger_config": {"from": "new", "to": "in_progress"},
                                 "recipients": {"assignee": True, "creator": True}, "channels": channels,
                                 "title_template": "#{{ case.number }} {{ case.title }} is in progress",
                                 "message_template": "Status went from {{ old_status }} to {{ new_status }}.",
                                 # One reminder per case, as before storm grouping: grouping 250 cases per
                                 # user into one message would measure far less work.
                                 "group_window_minutes": 0},
                                None)


def _trigger_us(conn) -> float | None:
    """Mean microseconds per call of the status reminder trigger function since the last reset."""
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.commit()  # the backend flushes its function counters when it goes idle
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute("SELECT calls, total_time FROM pg_stat_user_functions "
                       "WHERE funcname = 'sag_cases_reminders'").fetchone()
    conn.commit()
    return row["total_time"] * 1000 / row["calls"] if row and row["calls"] else None


def _interleaved_pass(ids: list[int], first_with: bool) -> tuple[dict[bool, list[float]], float | None]:
    """Reset, then every row's status update once, in chunks of CHUNK rows with the reminder
    triggers (and so the rule) switched on for every other chunk, starting with `first_with`.
    Returns {with_triggers: [wall s, client + server CPU s, server CPU s]} summed over its
    chunks, and the trigger function's mean microseconds per call (None if not measured)."""
    from app.core import database

    totals = {True: [0.0, 0.0, 0.0], False: [0.0, 0.0, 0.0]}
    with database.connect() as conn:
        _reset(conn)
        # Function timing on for both sides: the case module's own trigger functions are timed
        # (and pay its clock reads) alike.
        conn.execute("SET track_functions = 'all'")
        conn.execute("SELECT pg_stat_reset_single_function_counters('sag_cases_reminders'::regproc)")
        conn.commit()
        pid = _backend_pid(conn)
        try:
            for n, start in enumerate(range(0, len(ids), CHUNK)):
                with_triggers = (n % 2 == 0) == first_with
                _set_triggers(conn, with_triggers)
                for i, x in enumerate(_status_updates(conn, pid, ids[start:start + CHUNK], "in_progress")):
                    totals[with_triggers][i] += x
            return totals, _trigger_us(conn)
        finally:
            _set_triggers(conn, True)


def _overhead_round(ids: list[int], r: int) -> tuple[list[float], list[float], float | None]:
    """One round: two interleaved passes with opposite chunk assignments, so each side updates
    every row exactly once, in the same table states, at interleaved moments. Returns
    (without, with) as [wall s, CPU s, server CPU s] and the trigger's us per call."""
    without, with_ = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
    trigger_us = []
    for first_with in ((True, False) if r % 2 == 0 else (False, True)):
        totals, us = _interleaved_pass(ids, first_with)
        for i in range(3):
            without[i] += totals[False][i]
            with_[i] += totals[True][i]
        if us is not None:
            trigger_us.append(us)
    return without, with_, (statistics.mean(trigger_us) if trigger_us else None)


def _queue_events(ids: list[int]) -> None:
    """Reset, then every row's status update with the triggers: one queued firing per case."""
    from app.core import database

    with database.connect() as conn:
        _reset(conn)
        _status_updates(conn, _backend_pid(conn), ids, "in_progress")


def _file_system(path: Path) -> str:
    """The type of the file system `path` is on (the longest mount point above it)."""
    path, found = path.resolve(), ("", "unknown")
    with contextlib.suppress(OSError), open("/proc/self/mounts") as mounts:
        for line in mounts:
            _, point, kind, *_ = line.split()
            point = point.replace("\\040", " ")
            if path.is_relative_to(point) and len(point) > len(found[0]):
                found = (point, kind)
    return found[1]


def _default_outbox_parent() -> Path | None:
    """MEMORY_OUTBOX when it is a writable tmpfs here; None: the temporary directory."""
    if MEMORY_OUTBOX.is_dir() and os.access(MEMORY_OUTBOX, os.W_OK) and _file_system(MEMORY_OUTBOX) == "tmpfs":
        return MEMORY_OUTBOX
    return None


def _file_create_us(folder: Path) -> float:
    """Microseconds (CPU) to create one small file in `folder` now, as the .eml backend does."""
    from app.core import mail

    folder.mkdir(parents=True)
    data = b"x" * 4096
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        device = os.fstat(fd).st_dev
        started = time.process_time()
        for i in range(PROBE_FILES):
            mail._write_file(fd, f"probe-{i}.eml", data, device)  # the backend's own way
        return (time.process_time() - started) / PROBE_FILES * 1e6
    finally:
        os.close(fd)


def _server_cpu_s(pgdata: Path) -> float:
    """CPU seconds of the whole server so far: its live processes, and the backends that exited
    (counted in the postmaster's children times once it reaped them)."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])

    def fields(pid: int | str) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    own = fields(postmaster)  # fields after the name: [0] state, [1] ppid, [11:15] utime stime cutime cstime
    total = sum(int(x) for x in own[11:15])
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                f = fields(entry)
            except OSError:
                continue
            if int(f[1]) == postmaster:
                total += int(f[11]) + int(f[12])
    return total / tick


def _wait_for_backends(n: int) -> None:
    """Until only `n` client backends are left (the workers' ones exit after the workers)."""
    from app.core import database

    for _ in range(200):
        if database.execute_query("SELECT count(*) AS n FROM pg_stat_activity "
                                  "WHERE backend_type = 'client backend'")[0]["n"] <= n:
            return
        time.sleep(0.01)


def _run_workers(n_workers: int, batch: int, data_dir: Path,
                 before_go: Callable[[], float]) -> tuple[float, float, float, float]:
    """Start the workers, let them connect, release them together (_common.release_workers)."""
    env = dict(os.environ, DATA_DIR=str(data_dir))  # the run's own outbox: data_dir/mail
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(batch)], cwd=ROOT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(n_workers)]
    return release_workers(procs, "worker", before_go)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--pgqueuer-jobs", type=int, default=PGQUEUER_JOBS)
    parser.add_argument("--pairs", type=int, default=PAIRS,
                        help="runs of ours (each worker count) and of pgqueuer, alternated")
    parser.add_argument("--outbox", type=Path, default=None,
                        help="a directory for the runs' .eml files (default: /dev/shm when it is a tmpfs, "
                             "else the temporary directory; see MEMORY_OUTBOX; removed at the end either way)")
    parser.add_argument("--channels", default=",".join(CHANNELS),
                        help="the rule's channels (in_app alone: the engine without e-mail, for comparison)")
    args = parser.parse_args()
    os.environ.pop("SMTP_HOST", None)  # e-mails go to the .eml file backend under the temporary DATA_DIR
    with contextlib.ExitStack() as stack, throwaway_database("bmc-bench-rem-") as tmp:
        pgdata = tmp / "var" / "pgdata"
        parent = args.outbox or _default_outbox_parent()
        outbox = Path(tempfile.mkdtemp(prefix="bmc-bench-outbox-", dir=parent)) if parent else None
        stack.callback(shutil.rmtree, outbox or tmp, ignore_errors=True)
        outbox_fs = _file_system(outbox or tmp)

        migrate_cases()
        ids = _fill(args.events)
        channels = args.channels.split(",")
        _make_rule(channels)
        # Both sides in every round, interleaved chunk by chunk: the machine is shared, and load
        # that comes and goes then hits both sides alike. The headline is the median of the
        # rounds' ratios; the ratio of the best of each side is printed too.
        without, with_, trigger_us = [], [], []
        for r in range(args.rounds):
            wo, w, us = _overhead_round(ids, r)
            without.append(wo)
            with_.append(w)
            if us is not None:
                trigger_us.append(us)
        wall_ratio = min(m[0] for m in with_) / min(m[0] for m in without)
        ratio = min(m[1] for m in with_) / min(m[1] for m in without)
        backend_ratio = min(m[2] for m in with_) / min(m[2] for m in without)
        round_ratios = [w[1] / wo[1] for w, wo in zip(with_, without, strict=True)]
        print("status updates (wall s, cpu s, server cpu s): "
              f"without {[tuple(round(x, 3) for x in m[:3]) for m in without]} "
              f"with {[tuple(round(x, 3) for x in m[:3]) for m in with_]}; "
              f"trigger us/update {[round(x, 1) for x in trigger_us]}", file=sys.stderr)
        # Ours and pgqueuer's in pairs: the host's other tenants come and go within seconds, and a
        # baseline measured once, half a minute after our run, met another machine. Which side
        # goes first alternates, so neither always meets the earlier minute.
        runs, pgq_runs, pair_ratios = [], [], []
        for pair in range(args.pairs):
            if pair % 2:
                pgq_runs.append(_pgqueuer_run(args.pgqueuer_jobs, pgdata))
            for n_workers in (int(x) for x in args.workers.split(",")):
                runs.append(_our_run(n_workers, ids, channels, args.batch, pgdata,
                                     (outbox or tmp) / f"run-{len(runs) + 1}"))
            if not pair % 2:
                pgq_runs.append(_pgqueuer_run(args.pgqueuer_jobs, pgdata))
            pair_ratios.append(runs[-1]["notifications_per_s"] / pgq_runs[-1]["jobs_per_s"])
            print(f"pair {pair + 1}: ratio {pair_ratios[-1]:.3f}", file=sys.stderr)
        ours = [r for r in runs if r["workers"] == runs[-1]["workers"]]  # the pairs' runs of the last count
        pgq_median = statistics.median(r["jobs_per_s"] for r in pgq_runs)
        pgq_exit_median = statistics.median(r["jobs_per_s_to_exit"] for r in pgq_runs)
        # CPU per notification against pgqueuer's CPU per job (workers and server): what the
        # throughput ratio tends to when both sides keep the two cores busy, and steadier than it.
        cpu_ratios = [(q["worker_cpu_us_per_job"] + q["server_cpu_us_per_job"])
                      / ((r["worker_cpu_us_per_event"] + r["server_cpu_us_per_event"])
                         * r["events"] / r["notifications"])
                      for r, q in zip(ours, pgq_runs, strict=True)]
        exit_ratios = [r["notifications_per_s_to_exit"] / q["jobs_per_s_to_exit"]
                       for r, q in zip(ours, pgq_runs, strict=True)]
        print(json.dumps({"workers": ours[-1]["workers"],
                          "events_per_s": round(statistics.median(r["events_per_s"] for r in ours)),
                          "notifications_per_s": round(statistics.median(r["notifications_per_s"] for r in ours)),
                          "trigger_overhead_ratio": round(statistics.median(round_ratios), 3),
                          "runs": runs, "events": args.events,
                          "trigger_overhead_ratio_wall": round(wall_ratio, 3),
                          "trigger_overhead_ratio_best": round(ratio, 3),
                          "trigger_overhead_ratio_rounds": [round(x, 3) for x in round_ratios],
                          "trigger_overhead_ratio_backend": round(backend_ratio, 3),
                          "trigger_us_per_update": (round(statistics.median(trigger_us), 2)
                                                    if trigger_us else None),
                          "rounds": args.rounds, "channels": channels, "outbox_fs": outbox_fs,
                          "status_updates_cpu_s": {"without": round(min(m[1] for m in without), 3),
                                                   "with": round(min(m[1] for m in with_), 3)},
                          "pgqueuer_runs": pgq_runs,
                          "pgqueuer_noop_jobs_per_s": round(pgq_median),
                          "pgqueuer_worker_cpu_us_per_job": round(statistics.median(
                              r["worker_cpu_us_per_job"] for r in pgq_runs)),
                          "pgqueuer_server_cpu_us_per_job": round(statistics.median(
                              r["server_cpu_us_per_job"] for r in pgq_runs)),
                          "pairs": args.pairs,
                          "ratio_vs_pgqueuer_pairs": [round(x, 3) for x in pair_ratios],
                          "ratio_vs_pgqueuer": round(statistics.median(pair_ratios), 3),
                          "ratio_vs_pgqueuer_cpu": round(statistics.median(cpu_ratios), 3),
                          "pgqueuer_noop_jobs_per_s_to_exit": round(pgq_exit_median),
                          "ratio_vs_pgqueuer_to_exit": round(statistics.median(exit_ratios), 3)}))


def _our_run(n_workers: int, ids: list[int], channels: list[str], batch: int, pgdata: Path,
             run_dir: Path) -> dict:
    """Queue the cases' events afresh, drain them with `n_workers` workers, check every event and
    notification went out; the run's figures."""
    from app.core import database, mail

    _queue_events(ids)  # the same events for each run
    with database.connect(autocommit=True) as conn:
        conn.execute("ANALYZE")  # what autovacuum does on a live system after such a burst
    queued = database.execute_query(
        "SELECT (SELECT count(*) FROM sag_reminder_queue WHERE status = 'pending') "
        "+ (SELECT count(*) FROM sag_reminder_inbox) AS n")[0]["n"]
    create_us = _file_create_us(run_dir / "probe")
    _wait_for_backends(1)  # the previous run's backends gone
    # The server's CPU counted from when the workers are connected, as for pgqueuer's.
    elapsed, to_exit, workers_cpu, server_before = _run_workers(n_workers, batch, run_dir,
                                                                lambda: _server_cpu_s(pgdata))
    _wait_for_backends(1)
    server_cpu = _server_cpu_s(pgdata) - server_before
    counts = database.execute_query(
        "SELECT (SELECT count(*) FROM sag_reminder_queue WHERE status = 'sent') AS events, "
        "(SELECT count(*) FROM sag_reminder_logs WHERE status = 'sent') AS notifications, "
        "(SELECT count(*) FROM sag_reminder_queue WHERE status <> 'sent') "
        "+ (SELECT count(*) FROM sag_reminder_inbox) AS left_over")[0]
    if counts["left_over"] or counts["events"] != queued:
        raise SystemExit(f"queue not fully processed: {counts}")
    emails = sum(1 for _ in (run_dir / mail.MAIL_SUBDIR).glob("*.eml"))
    expected = 2 * len(channels) * queued, (2 * queued if "email" in channels else 0)
    if (counts["notifications"], emails) != expected:
        raise SystemExit(f"expected (notifications, e-mails) {expected}: {counts}, {emails} e-mails")
    print(f"workers={n_workers}: {counts} in {elapsed:.3f}s (exited after {to_exit:.3f}s)", file=sys.stderr)
    return {"workers": n_workers, "events_per_s": round(counts["events"] / elapsed),
            "notifications_per_s": round(counts["notifications"] / elapsed),
            "seconds": round(elapsed, 3), "seconds_to_exit": round(to_exit, 3),
            "notifications_per_s_to_exit": round(counts["notifications"] / to_exit),
            "events": counts["events"],
            "notifications": counts["notifications"], "file_create_us": round(create_us, 1),
            "worker_cpu_us_per_event": round(workers_cpu / counts["events"] * 1e6),
            "server_cpu_us_per_event": round(server_cpu / counts["events"] * 1e6)}


def _pgqueuer_run(jobs: int, pgdata: Path) -> dict:
    """The pgqueuer no-op baseline once (bench/_pgqueuer_noop.py); its figures."""
    per_s, per_s_to_exit, cpu, server = pgqueuer_noop_jobs_per_s(
        os.environ["DATABASE_URL"], jobs, PGQUEUER_WORKERS, PGQUEUER_BATCH,
        lambda: _server_cpu_s(pgdata), lambda: _wait_for_backends(1))
    print(f"pgqueuer no-op: {per_s:.0f} jobs/s ({per_s_to_exit:.0f} until exited)", file=sys.stderr)
    return {"jobs_per_s": round(per_s), "jobs_per_s_to_exit": round(per_s_to_exit),
            "worker_cpu_us_per_job": round(cpu / jobs * 1e6), "server_cpu_us_per_job": round(server / jobs * 1e6)}


if __name__ == "__main__":
    main()
