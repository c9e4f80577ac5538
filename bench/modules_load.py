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
import statistics
import time

from _common import throwaway_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with throwaway_database("bmc-bench-modules-"):
        from app.core import migrations
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


if __name__ == "__main__":
    main()
