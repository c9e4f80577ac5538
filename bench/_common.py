"""Set-up shared by the benchmarks: a throwaway embedded PostgreSQL, ports, processes, percentiles.

Imported by the scripts next to it (`python bench/x.py` puts `bench/` on sys.path); importing it
also puts the project root on sys.path so the scripts can import `app`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@contextmanager
def throwaway_database(prefix: str, *, durable: bool = False) -> Iterator[Path]:
    """A fresh embedded PostgreSQL in a new temporary directory (never ./var), app settings pointed at it.

    The server runs without durability (fsync off) unless `durable`: then commits wait for the
    disk, as in production.

    Yields the temporary directory (DATA_DIR is `<tmp>/var`, DATABASE_URL is set in os.environ).
    On exit closes the pool, lets go of the server (the last user stops it) and removes the directory.
    Nothing is migrated: call `migrations.migrate_core()` / `migrate_cases()` / `create_app()`.
    """
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    pgdata = None
    try:
        os.environ.pop("DATABASE_URL", None)
        os.environ.update({"DATA_DIR": str(tmp / "var"), "LOG_FILE": str(tmp / "logs" / "app.log"),
                           "SECRET_KEY": "bench-" + uuid.uuid4().hex, "LOG_LEVEL": "WARNING"})
        from app.core import embedded
        from app.core.config import reset_settings

        reset_settings()
        url = embedded.ensure_running(tmp / "var", fast=not durable)
        pgdata = (tmp / "var" / "pgdata").resolve()
        os.environ["DATABASE_URL"] = url
        reset_settings()
        yield tmp
    finally:
        from app.core import database, embedded

        database.close_pool()
        if pgdata is not None:
            embedded.release(pgdata)
        shutil.rmtree(tmp, ignore_errors=True)


def migrate_cases() -> None:
    """The core schema and the cases module's migrations only (no other module, no app start)."""
    from app.core import migrations

    migrations.migrate_core()
    sag = ROOT / "app" / "modules" / "sag"
    migrations.apply_migrations("sag", sag / "migrations", functions_root=sag)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen, wait_s: float, stdin_line: str | None = None) -> None:
    """Ask a child to stop (a line on its stdin, else SIGTERM); kill it if it is not gone in `wait_s`."""
    if proc.poll() is not None:
        return
    if stdin_line is not None:
        proc.stdin.write(stdin_line)
        proc.stdin.flush()
    else:
        proc.terminate()
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()


def release_workers(procs: list[subprocess.Popen], what: str,
                    before_go: Callable[[], float] = lambda: 0.0) -> tuple[float, float, float, float]:
    """Worker processes that print "ready", wait for a line on stdin, work, print their CPU seconds
    as soon as the work is done, then exit: wait until all are ready, call `before_go` (e.g. the
    server's CPU so far), release them together. (Seconds until all reported done, seconds until
    all exited, their CPU seconds, what `before_go` returned.) Both sides of
    reminder_throughput.py are timed by this, the same way."""
    for p in procs:
        if p.stdout.readline().strip() != "ready":
            raise SystemExit(f"a {what} did not start")
    mark = before_go()
    start = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    lines = [p.stdout.readline() for p in procs]
    done = time.perf_counter() - start
    for p in procs:
        p.wait()
        if p.returncode:
            raise SystemExit(f"{what} exited with {p.returncode}")
    return done, time.perf_counter() - start, sum(float(line) for line in lines), mark


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile `p` (0-100) of `values`."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]
