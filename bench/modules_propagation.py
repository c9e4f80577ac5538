"""Benchmark: how fast a module enable/disable reaches another app process (LISTEN/NOTIFY).

Starts a throwaway embedded PostgreSQL in a temporary directory and two real
`bmc-hub serve --no-worker` processes on it, then ROUNDS times disables (and re-enables)
the webshop module through process A's API and polls process B until its webshop API
answers 404 (200), and prints one JSON line:

    {"rounds": 10, "disable_p50_ms": ..., "disable_max_ms": ..., "enable_p50_ms": ..., "enable_max_ms": ...}

The time includes A's request, the NOTIFY, B's refresh and B's next answer (polled every 10 ms).
Target: well under the promised 1-2 s.

    .venv/bin/python bench/modules_propagation.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from _common import ROOT, free_port, stop_process, throwaway_database

POLL_S = 0.01
TIMEOUT_S = 30.0


def start_hub(url: str, tmp: Path, name: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, DATA_DIR=str(tmp / name), LOG_FILE=str(tmp / f"{name}.log"),
               LOG_LEVEL="WARNING", SECRET_KEY="bench", BMC_HUB_ADMIN_PASSWORD="bench-password-1")
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--no-worker", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"hub {name} did not start")


def wait_for(client: httpx.Client, url: str, status: int) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while client.get(url).status_code != status:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} never answered {status}")
        time.sleep(POLL_S)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    procs: list[subprocess.Popen] = []
    with throwaway_database("bmc-bench-prop-") as tmp:
        url = os.environ["DATABASE_URL"]
        try:
            from app.core import auth, database, migrations
            from app.main import create_app

            migrations.migrate_core()
            create_app()
            proc_a, a = start_hub(url, tmp, "a")
            procs.append(proc_a)
            proc_b, b = start_hub(url, tmp, "b")
            procs.append(proc_b)
            admin_id = database.execute_query("SELECT id FROM users WHERE role = 'admin' LIMIT 1")[0]["id"]
            headers = {"Authorization": f"Bearer {auth.create_api_token(admin_id, 'bench')}"}
            disable, enable = [], []
            with httpx.Client(headers=headers, timeout=30) as client:
                for _ in range(args.rounds):
                    for action, status, out in (("disable", 404, disable), ("enable", 200, enable)):
                        start = time.perf_counter()
                        r = client.post(f"{a}/api/v1/modules/webshop/{action}")
                        r.raise_for_status()
                        wait_for(client, f"{b}/api/v1/webshop/items", status)
                        out.append((time.perf_counter() - start) * 1000)
            print(json.dumps({
                "rounds": args.rounds,
                "disable_p50_ms": round(statistics.median(disable), 1), "disable_max_ms": round(max(disable), 1),
                "enable_p50_ms": round(statistics.median(enable), 1), "enable_max_ms": round(max(enable), 1),
            }))
        finally:
            for proc in procs:
                stop_process(proc, 20)


if __name__ == "__main__":
    main()
