"""The module loader: what `create_app()`, the worker and the CLI call.

    loader.install(app)      # discover, validate, migrate, import and mount the modules
    loader.current()         # the Host of the running app (state of every module)
    loader.jobs()            # (module, job name, function) of the enabled modules
    loader.demo_hooks()      # (module, run) of the enabled modules with backend/demo.py

See `host.py` for the rules, `mounting.py` for routes and the gate, `listener.py` for
live enable/disable, and docs/modules.md for the author's view.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from collections.abc import Callable

from fastapi import FastAPI

from app.core import templating, ui
from app.core.config import get_settings
from app.core.modules import manifest as mf
from app.core.modules import mounting
from app.core.modules.host import ENABLED, Host
from app.core.modules.listener import Listener

log = logging.getLogger("app.core.modules")

_host: Host | None = None
_listener: Listener | None = None
_listener_users = 0
_listener_lock = threading.Lock()
# Hosts of the apps being served in this process (their lifespan is running).
_running: list[Host] = []


class ModuleStartupError(RuntimeError):
    """MODULES_STRICT=true and a module failed to load."""


def install(app: FastAPI) -> Host:
    """Load the modules into `app` (called once by `create_app`)."""
    global _host
    from app.core.modules import routes

    previous = _host
    if previous is not None:
        # A new app in the same process (tests): forget what the old one contributed.
        for name in list(previous.records):
            ui.unregister(name)
            templating.unregister_module_templates(name)
    app.include_router(routes.api)
    app.include_router(routes.pages)
    host = Host(app, mf.modules_dir())
    mounting.install_static(app, host.static_folder)
    app.add_middleware(mounting.ModuleGate, owner_of=host.owner_of, is_active=host.is_active,
                       acting=host.acting)
    _host = host
    app.state.modules = host
    failures = host.refresh()
    if failures and get_settings().modules_strict:
        detail = "; ".join(f"{r.name}: {r.error}" for r in failures)
        raise ModuleStartupError(f"MODULES_STRICT is on and {len(failures)} module(s) failed: {detail}")
    _wrap_lifespan(app, host)
    enabled = [n for n, r in host.records.items() if r.state == ENABLED]
    log.info("modules enabled: %s", ", ".join(enabled) or "none")
    return host


def _wrap_lifespan(app: FastAPI, host: Host) -> None:
    original = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a):
        _running.append(host)
        start_listener()
        try:
            async with original(a) as state:
                yield state
        finally:
            stop_listener()
            _running.remove(host)

    app.router.lifespan_context = lifespan


def current() -> Host:
    """The Host of the app in this process; a headless one (no routes) when there is no app."""
    global _host
    if _host is None:
        _host = Host(None, mf.modules_dir())
        _host.refresh()
    return _host


def refresh(retry: set[str] | None = None) -> None:
    current().refresh(retry=retry or set())


def start_listener() -> None:
    """Start this process's LISTEN thread (shared; counted, so nested users are fine)."""
    global _listener, _listener_users
    with _listener_lock:
        _listener_users += 1
        if _listener is None:
            _listener = Listener(_on_change).start()
            _listener.ready.wait(5)


def _on_change(names: set[str]) -> None:
    for host in list(_running) or [current()]:
        host.refresh(retry=names)


def stop_listener() -> None:
    global _listener, _listener_users
    with _listener_lock:
        _listener_users = max(0, _listener_users - 1)
        if _listener_users == 0 and _listener is not None:
            _listener.stop()
            _listener = None


def jobs() -> list[tuple[str, str, Callable]]:
    """(module, job name, function) for every background job of the enabled modules."""
    host = current()
    return [(name, job, fn) for name, rec in host.records.items() if rec.state == ENABLED
            for job, fn in rec.jobs]


def demo_hooks() -> list[tuple[str, Callable]]:
    """(module, run) for every enabled module with `backend/demo.py` defining `run(progress, task)`."""
    hooks = []
    for name, rec in current().records.items():
        if rec.state == ENABLED and (rec.manifest.folder / "backend" / "demo.py").is_file():
            module = importlib.import_module(f"app.modules.{name}.backend.demo")
            hooks.append((name, _as_module(name, module.run)))
    return hooks


def _as_module(name: str, fn: Callable) -> Callable:
    """`fn` run on behalf of module `name` (its READ_ONLY / DRY_RUN apply)."""

    def call(*args, **kwargs):
        with current().acting(name):
            return fn(*args, **kwargs)

    return call
