"""`make run`'s path end to end: `bmc-hub serve` with no DATABASE_URL starts its own embedded
PostgreSQL under a fresh data directory, serves the hub, stops the database when stopped,
and finds everything again on the next start."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.core import embedded

ADMIN_PASSWORD = "first-start-password"
# Generous: the first start runs initdb; CI machines are slow. bench/serve_restart.py measures.
START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(workdir: Path, port: int, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "DATA_DIR", "LOG_FILE")}
    env.update({"BMC_HUB_ADMIN_PASSWORD": ADMIN_PASSWORD, "BASE_URL": f"http://127.0.0.1:{port}",
                "PYTHONUNBUFFERED": "1"})
    bmc_hub = Path(sys.executable).parent / "bmc-hub"
    return subprocess.Popen([str(bmc_hub), "serve", "--port", str(port), *extra], cwd=workdir, env=env,
                            stdout=open(workdir / "serve.out", "ab"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def _wait_for_login_page(proc: subprocess.Popen, base: str, out: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"bmc-hub serve exited with {proc.returncode}:\n{out.read_text()[-3000:]}"
        try:
            r = httpx.get(f"{base}/login", timeout=2)
            if r.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the login page was not served in time")


def _stop(proc: subprocess.Popen, sig: int, *, whole_group: bool = False) -> int:
    if whole_group:
        os.killpg(proc.pid, sig)  # what Ctrl-C in a terminal does: the whole foreground group
    else:
        proc.send_signal(sig)
    try:
        return proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def _csrf(page: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)


@pytest.fixture
def workdir(tmp_path):
    yield tmp_path
    # Never leave a server behind, whatever failed.
    embedded.stop(tmp_path / "var")


def test_serve_starts_its_own_database_stops_it_and_keeps_the_data(workdir):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    pgdata = (workdir / "var" / "pgdata").resolve()

    proc = _serve(workdir, port)
    try:
        _wait_for_login_page(proc, base, workdir / "serve.out")
        with httpx.Client(base_url=base, timeout=10) as browser:
            r = browser.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD})
            assert r.status_code == 303, r.text
            dashboard = browser.get("/")
            assert dashboard.status_code == 200
            r = browser.post("/api/v1/customers", json={"name": "Havblik Revision ApS", "city": "Esbjerg"},
                             headers={"X-CSRF-Token": _csrf(dashboard.text)})
            assert r.status_code == 201, r.text
            cookies = dict(browser.cookies)
        assert httpx.get(f"{base}/health").json() == {"status": "ok", "database": "ok"}
        assert embedded._read_postmaster(pgdata) is not None
    finally:
        code = _stop(proc, signal.SIGTERM)
    assert code == 0, (workdir / "serve.out").read_text()[-3000:]
    assert embedded._read_postmaster(pgdata) is None, "stopping the hub stops its database"
    assert not (pgdata / "postmaster.pid").exists()

    secret = (workdir / "var" / "secret_key").read_text()
    started = time.monotonic()
    proc = _serve(workdir, port, "--no-worker")
    try:
        _wait_for_login_page(proc, base, workdir / "serve.out")
        print(f"second start: login page after {time.monotonic() - started:.1f} s")
        with httpx.Client(base_url=base, timeout=10, cookies=cookies) as browser:
            # The session from before the restart still works: sessions live in the database.
            r = browser.get("/api/v1/customers", params={"q": "Havblik"})
            assert r.status_code == 200
            assert [c["city"] for c in r.json()["items"]] == ["Esbjerg"]
        with httpx.Client(base_url=base, timeout=10) as fresh:
            assert fresh.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD}).status_code == 303
    finally:
        code = _stop(proc, signal.SIGINT, whole_group=True)
    assert code in (0, 130)
    assert embedded._read_postmaster(pgdata) is None
    assert (workdir / "var" / "secret_key").read_text() == secret, "SECRET_KEY is generated once"

    out = (workdir / "serve.out").read_text()
    assert out.count("Created admin user 'admin'") == 1, "the admin is made on the first start only"
    log = (workdir / "logs" / "app.log").read_text().splitlines()
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR|DEBUG|CRITICAL) ")
    assert log and all(stamp.match(line) for line in log), "one line per event"
    assert any("login: admin" in line for line in log)
    assert any('"POST /api/v1/customers HTTP/1.1" 201' in line for line in log), "access log in LOG_FILE"
    assert any("starting embedded PostgreSQL" in line for line in log)
    assert ADMIN_PASSWORD not in "\n".join(log), "no secrets in the log"
    assert not [line for line in log if " ERROR " in line], "a clean start and stop logs no error"
