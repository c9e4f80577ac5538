"""How long `bmc-hub serve` takes to serve the login page: first start (initdb, migrations,
admin) and a restart on the same data directory. Prints one JSON line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _common import free_port

TIMEOUT_S = 180


def _start_and_time(workdir: Path, port: int) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATA_DIR", "LOG_FILE", "SECRET_KEY")}
    env["BMC_HUB_ADMIN_PASSWORD"] = "bench-password"
    started = time.monotonic()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "bmc-hub"), "serve", "--port", str(port),
                             "--no-worker"], cwd=workdir, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        while time.monotonic() - started < TIMEOUT_S:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise SystemExit("the hub did not start")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        port = free_port()
        first = _start_and_time(workdir, port)
        second = _start_and_time(workdir, port)
    print(json.dumps({"bench": "serve_restart", "first_start_login_page_s": round(first, 2),
                      "second_start_login_page_s": round(second, 2)}))


if __name__ == "__main__":
    main()
