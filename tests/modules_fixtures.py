"""Helpers for the module framework tests: real modules written into a temporary MODULES_DIR.

    def test_x(modules_dir):
        name = write_module(modules_dir, "shop", router=ROUTER_RAISING)
        app = create_app()          # loads every module in modules_dir

Module names get a random suffix: a module is imported as `app.modules.<name>` and Python
caches imports per process, so two tests must never share a name.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]

PING_ROUTER = '''
from fastapi import APIRouter

router = APIRouter()


@router.get("/ping")
def read_ping():
    return {"module": "%(name)s", "ok": True}
'''

PING_VIEWS = '''
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter()


@router.get("", response_class=HTMLResponse)
def read_index():
    return "<p>%(name)s page</p>"
'''


def unique(base: str) -> str:
    return f"{base}_{uuid.uuid4().hex[:6]}"


def write_module(root: Path, base: str, *, manifest: dict | None = None, raw_manifest: str | None = None,
                 router: str | None = PING_ROUTER, views: str | None = PING_VIEWS,
                 migrations: dict[str, str] | None = None, files: dict[str, str] | None = None,
                 name: str | None = None) -> str:
    """Write a module folder; `%(name)s` / `%(prefix)s` in code and SQL are filled in. Returns its name."""
    name = name or unique(base)
    folder = root / name
    folder.mkdir(parents=True)
    values = {"name": name, "prefix": f"{name}_"}
    data = {"name": name, "version": "1.0.0", "description": f"Test module {base}", "author": "tests",
            "enabled": True, "table_prefix": f"{name}_", "dependencies": []}
    data.update(manifest or {})
    data = {k: v for k, v in data.items() if v is not _DROP}
    (folder / "module.json").write_text(raw_manifest if raw_manifest is not None else json.dumps(data, indent=2))
    (folder / "__init__.py").write_text("")
    if router is not None:
        (folder / "backend").mkdir()
        (folder / "backend" / "__init__.py").write_text("")
        (folder / "backend" / "router.py").write_text(router % values)
    if views is not None:
        (folder / "frontend").mkdir()
        (folder / "frontend" / "__init__.py").write_text("")
        (folder / "frontend" / "views.py").write_text(views % values)
    for fname, sql in (migrations or {}).items():
        (folder / "migrations").mkdir(exist_ok=True)
        (folder / "migrations" / fname).write_text(sql % values)
    for rel, text in (files or {}).items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text % values)
    return name


_DROP = object()
DROP = _DROP  # manifest={"version": DROP} leaves the field out


def set_env(**values: str | None) -> dict[str, str | None]:
    """Set (or with None: remove) environment variables and reload the settings; returns the old values."""
    from app.core.config import reset_settings

    old = {k: os.environ.get(k) for k in values}
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset_settings()
    return old


@pytest.fixture
def modules_dir(tmp_path):
    """An empty MODULES_DIR for this test (restored afterwards)."""
    folder = tmp_path / "modules"
    folder.mkdir()
    old = set_env(MODULES_DIR=str(folder))
    yield folder
    set_env(**old)


def enable_module(name: str):
    """Switch a shipped module on in this test's database as an admin would: stored as enabled,
    then loaded (its migrations run). Returns the app that loaded it."""
    from app.core import database
    from app.main import create_app

    database.execute_update("INSERT INTO module_state (name, enabled) VALUES (%s, true) "
                            "ON CONFLICT (name) DO UPDATE SET enabled = true", (name,))
    return create_app()


def log_text() -> str:
    path = Path(os.environ["LOG_FILE"])
    return path.read_text(encoding="utf-8") if path.exists() else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HubProcess:
    """A real `bmc-hub serve --no-worker` on a free port against the test database."""

    def __init__(self, database_url: str, workdir: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / f"serve-{self.port}.out"
        child_env = dict(os.environ, DATABASE_URL=database_url, LOG_FILE=str(workdir / "app.log"),
                         DATA_DIR=str(workdir / "var"), BASE_URL=self.url, BMC_HUB_ADMIN_PASSWORD="unused-pw-123")
        child_env.update(env or {})
        self._out = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--no-worker", "--port", str(self.port)],
            cwd=ROOT, env=child_env, stdout=self._out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float = 60) -> HubProcess:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited: {self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"hub did not start: {self.log_path.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._out.close()


def wait_until(predicate, timeout_s: float = 5.0, interval_s: float = 0.05):
    """Poll `predicate` until it returns a truthy value (returned) or the time is up (last value)."""
    deadline = time.monotonic() + timeout_s
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval_s)
        value = predicate()
    return value
