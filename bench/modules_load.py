"""Benchmark: how long `create_app()` takes to load the modules when nothing is pending.

Every test file and every process start calls `create_app()`; with the migrations already
applied it must not re-migrate or do slow work. Starts a throwaway embedded PostgreSQL in a
temporary directory, applies everything once (the first `create_app()`), then times
ROUNDS further calls and prints one JSON line:

    {"rounds": 30, "modules": [...], "first_ms": ..., "p50_ms": ..., "p95_ms": ...,
     "refresh_p50_ms": ...}

`refresh_*` is one `Host.refresh()` (what every process does on a module state change).

    .venv/bin/python bench/modules_load.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bmc-bench-modules-"))
    os.environ.pop("DATABASE_URL", None)
    os.environ.update({"DATA_DIR": str(tmp / "var"), "LOG_FILE": str(tmp / "logs" / "app.log"),
                       "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"})
    from app.core import embedded
    from app.core.config import reset_settings

    reset_settings()
    pgdata = None
    try:
        url = embedded.ensure_running(tmp / "var", fast=True)
        pgdata = (tmp / "var" / "pgdata").resolve()
        os.environ["DATABASE_URL"] = url
        reset_settings()
        from app.core import database, migrations
        from app.main import create_app

        migrations.migrate_core()
        start = time.perf_counter()
        app = create_app()
        first_ms = (time.perf_counter() - start) * 1000
        logging.getLogger().setLevel(logging.WARNING)
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            app = create_app()
            times.append((time.perf_counter() - start) * 1000)
        host = app.state.modules
        refresh = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            host.refresh()
            refresh.append((time.perf_counter() - start) * 1000)
        times.sort()
        refresh.sort()
        print(json.dumps({
            "rounds": args.rounds,
            "modules": {n: r.state for n, r in sorted(host.records.items())},
            "first_ms": round(first_ms, 1),
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
            "refresh_p50_ms": round(statistics.median(refresh), 1),
            "refresh_p95_ms": round(refresh[int(len(refresh) * 0.95) - 1], 1),
        }))
        database.close_pool()
    finally:
        if pgdata is not None:
            embedded.release(pgdata)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
