"""A real uvicorn server in a thread, plus a small Server-Sent-Events client, for tests.

The server serves the test's app against the test database on a free loopback port; its
lifespan starts the real-time listener exactly as `bmc-hub serve` does. Optionally the
sag module's reminder worker job runs beside it (in a thread), so reminders flow end to end.
"""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from dataclasses import dataclass

import httpx
import uvicorn

START_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, app, with_worker: bool = False) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.with_worker = with_worker
        self._stop_worker = threading.Event()
        self._threads: list[threading.Thread] = []
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)

    def start(self) -> LiveServer:
        t = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}", daemon=True)
        t.start()
        self._threads.append(t)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if time.monotonic() > deadline or not t.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        hub = self.app.state.realtime
        while not hub.connected.is_set():
            if time.monotonic() > deadline:
                raise RuntimeError("real-time listener did not connect")
            time.sleep(0.02)
        if self.with_worker:
            from app.modules.sag.reminders import worker

            w = threading.Thread(target=worker.run, args=(self._stop_worker,), name="reminder-worker",
                                 daemon=True)
            w.start()
            self._threads.append(w)
        return self

    def stop(self) -> None:
        self._stop_worker.set()
        hub = getattr(self.app.state, "realtime", None)
        if hub is not None:
            hub.close_streams()
        self.server.should_exit = True
        for t in self._threads:
            t.join(15)


@dataclass
class Event:
    event: str
    data: dict
    id: str | None


class SSEClient:
    """Reads a text/event-stream in a thread; events land in `self.events` (a queue)."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, cookies=None) -> None:
        self.url = url
        self.headers = headers or {}
        self.cookies = cookies
        self.events: queue.Queue[Event] = queue.Queue()
        self.comments = 0
        self.status: int | None = None
        self.opened = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=60.0), cookies=cookies)
        self._closed = False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> SSEClient:
        self._thread.start()
        if not self.opened.wait(10):
            raise RuntimeError("stream did not open")
        return self

    def _run(self) -> None:
        try:
            with self._client.stream("GET", self.url, headers=self.headers) as resp:
                self.status = resp.status_code
                self.opened.set()
                if resp.status_code != 200:
                    return
                fields: dict[str, str] = {}
                for line in resp.iter_lines():
                    if line == "":
                        if "data" in fields:
                            self.events.put(Event(fields.get("event", "message"), json.loads(fields["data"]),
                                                  fields.get("id")))
                        fields = {}
                    elif line.startswith(":"):
                        self.comments += 1
                    else:
                        name, _, value = line.partition(":")
                        fields[name] = value[1:] if value.startswith(" ") else value
        except Exception:  # noqa: BLE001 - closing the client ends the read with an error
            if not self._closed:
                raise
        finally:
            self.opened.set()

    def next(self, kind: str | None = None, timeout: float = 10.0) -> Event:
        """The next event (of `kind`, skipping others) or AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind or 'event'} within {timeout} s")
            try:
                ev = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if kind is None or ev.event == kind:
                return ev

    def close(self) -> None:
        self._closed = True
        self._client.close()
        self._thread.join(1)
