"""`current_host()`: the module host of the running code, wherever it runs.

In a request that is the app's host (`request.app.state.modules`, also set as the current
one by the app's middleware); in a job the worker's host; in a script or CLI command that
never built an app, a headless host (no routes) for this process, made on first use.
"""

from __future__ import annotations

import threading
from pathlib import Path

from app.core import host_context
from app.core.modules import manifest as mf
from app.core.modules.host import Host

# The one piece of module framework state outside a host: the fallback for code that runs
# outside any app (a script, a CLI command). It cannot live on an app because there is
# none; it is keyed by the modules folder so a test that points MODULES_DIR elsewhere gets
# the modules it wrote there.
_headless: dict[Path, Host] = {}
_headless_lock = threading.Lock()


def current_host() -> Host:
    """The host of the running request or job, else this process's headless host."""
    host = host_context.active_host()
    if host is not None:
        return host
    directory = mf.modules_dir()
    with _headless_lock:
        host = _headless.get(directory)
        if host is None:
            host = _headless[directory] = Host(None, directory)
            host.refresh()
    return host
