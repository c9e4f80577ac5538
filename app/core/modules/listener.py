"""One thread per process that LISTENs on `bmc_module_state` and refreshes the modules.

The core migration's trigger on `module_state` NOTIFYs the module's name whenever an
admin enables or disables it (from any process), so every replica and worker picks
the change up within about a second. After a lost connection the thread reconnects
and refreshes everything, in case it missed a notification meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.core import database

log = logging.getLogger("app.core.modules")

CHANNEL = "bmc_module_state"
# How long one wait for notifications lasts; also how quickly the thread notices `stop`.
POLL_S = 0.5
RECONNECT_DELAY_S = 2.0
# After a notification, how long to gather others that came with it (one refresh for all).
BATCH_S = 0.01


class Listener:
    def __init__(self, on_change: Callable[[set[str]], None]) -> None:
        self.on_change = on_change
        self.stop_event = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="module-state-listener", daemon=True)

    def start(self) -> Listener:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            # Wake the blocked wait at once with an empty notification (every listener ignores
            # it) rather than letting each shutdown sit out a poll period.
            try:
                database.execute_query("SELECT pg_notify(%s, '')", (CHANNEL,))
            except Exception:  # noqa: BLE001 - the database may already be gone
                pass
        self.thread.join(POLL_S * 4)

    def _run(self) -> None:
        first = True
        while not self.stop_event.is_set():
            try:
                with database.connect(autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.ready.set()
                    if not first:
                        self.on_change(set())
                    first = False
                    self._loop(conn)
            except Exception as exc:  # noqa: BLE001 - the database may be restarting
                if self.stop_event.is_set():
                    break
                log.warning("module state listener lost its connection (%s); reconnecting", type(exc).__name__)
                first = False
                self.stop_event.wait(RECONNECT_DELAY_S)

    def _loop(self, conn) -> None:
        while not self.stop_event.is_set():
            # Wake on the first notification, then take whatever else arrived with it.
            names = {n.payload for n in conn.notifies(timeout=POLL_S, stop_after=1)}
            if names and not self.stop_event.is_set():
                names |= {n.payload for n in conn.notifies(timeout=BATCH_S)}
                names.discard("")
            if names and not self.stop_event.is_set():
                try:
                    self.on_change(names)
                except Exception:  # noqa: BLE001
                    log.exception("refreshing modules after a state change failed")
