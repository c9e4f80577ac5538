"""Which module host the running code belongs to.

Several apps can live in one process (tests build many), each with its own module host
(`app.state.modules`). Code that runs for a request, a job or a module load finds its host
here: the app's middleware sets it around each request, the worker around each job, the
host itself while it loads modules. This file knows nothing of the host's type so the
lowest layers (templates, UI) can ask without importing the module framework; the module
framework's `app.core.modules.current_host()` adds the fallback for scripts and the CLI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

_current: ContextVar[Any | None] = ContextVar("bmc_module_host", default=None)


def active_host() -> Any | None:
    """The host set for the running code, or None outside a request, job or module load."""
    return _current.get()


@contextlib.contextmanager
def use_host(host: Any) -> Iterator[Any]:
    """Run the block on behalf of `host` (restored afterwards, also on error)."""
    token = _current.set(host)
    try:
        yield host
    finally:
        _current.reset(token)


class HostContext:
    """ASGI middleware: every request of the app runs with the app's host as the current one."""

    def __init__(self, app: ASGIApp, host: Any) -> None:
        self.app = app
        self.host = host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with use_host(self.host):
            await self.app(scope, receive, send)
