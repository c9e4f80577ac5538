"""The module loader: what `create_app()` calls.

    host = loader.install(app)   # discover, validate, migrate, import and mount the modules
    app.state.modules            # the same Host: state and contributions of every module

Code outside a request finds the host with `app.core.modules.current_host()`.
See `host.py` for the rules, `mounting.py` for routes and the gate, `listener.py` for
live enable/disable, and docs/modules.md for the author's view.
"""

from __future__ import annotations

import contextlib
import logging

from fastapi import FastAPI

from app.core import host_context
from app.core.config import get_settings
from app.core.modules import manifest as mf
from app.core.modules import mounting, routes
from app.core.modules.host import ENABLED, Host

log = logging.getLogger("app.core.modules")


class ModuleStartupError(RuntimeError):
    """MODULES_STRICT=true and a module failed to load."""


def install(app: FastAPI) -> Host:
    """Load the modules into `app` (called once by `create_app`)."""
    app.include_router(routes.api)
    app.include_router(routes.pages)
    host = Host(app, mf.modules_dir())
    mounting.install_static(app, host.static_folder)
    app.add_middleware(mounting.ModuleGate, owner_of=host.owner_of, is_active=host.is_active,
                       acting=host.acting)
    # Outermost: everything of a request, the gate included, runs with this app's host.
    app.add_middleware(host_context.HostContext, host=host)
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
        host.start_listener()
        try:
            async with original(a) as state:
                yield state
        finally:
            host.stop_listener()

    app.router.lifespan_context = lifespan
