"""Real-time push: one PostgreSQL LISTEN connection per app process, fanned out to browsers.

Whoever delivers an in-app notification (a module's worker, in any process) runs
`pg_notify('bmc_user_notifications', '{"user_id": .., "log_id": .., "event": ..}')` in the
delivering transaction. Every app process keeps exactly one connection LISTENing on that
channel (never one per browser) and hands each notification to the Server-Sent-Event streams
of that user open on this process, through small per-stream in-memory queues.

What an event carries is decided by the *feeds* of the enabled modules (module.json
`"feed"`, held by the app's module host): a feed turns the raw payload into the JSON the
browser gets (one database read per notification, only when this process has a stream open
for that user), lists what a stream missed (`backlog`) and counts unread items. A payload
naming its module (`"module": "sag"`) goes to that module's feed; one that does not is
offered to each feed in load order and the first event returned wins. A disabled module's
feed is no longer asked, so its notifications stop reaching browsers (and its backlog and
unread count stop counting) until it is enabled again.

After the listener loses its connection it reconnects with back-off and tells every open
stream to re-sync from the database, so nothing delivered meanwhile is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
from starlette.concurrency import run_in_threadpool

from app.core import database

log = logging.getLogger("app.core.realtime")

CHANNEL = "bmc_user_notifications"
# Events waiting for one slow stream; beyond this the stream is told to re-sync instead.
QUEUE_SIZE = 200
RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 15.0


class Feed(Protocol):
    """What a module provides so the core can push its notifications."""

    def load(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The event for the browser (or None to drop it); runs in a worker thread."""

    def backlog(self, user_id: int, after_id: int | None) -> list[dict[str, Any]]:
        """Events this user's stream should (re)play: after `after_id`, or not yet seen."""

    def unread_count(self, user_id: int) -> int:
        """The number the bell shows."""


def feeds_of(app) -> list[tuple[str, Feed]]:
    """(module, feed) of the app's enabled modules, in load order."""
    host = getattr(app.state, "modules", None)  # None: an app built without modules
    return host.feeds() if host is not None else []


# Items a stream's queue can hold besides events.
RESYNC = "resync"  # the stream may have missed events: replay from the database
CLOSE = "close"  # the process is shutting down


@dataclass(eq=False)
class Subscription:
    user_id: int
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, item: Any) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # A stream that cannot keep up drops its backlog and replays from the database.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)


class Hub:
    """This process's subscribers and the task listening for their notifications."""

    def __init__(self, url_factory, feeds: Callable[[], list[tuple[str, Feed]]]) -> None:
        self._url_factory = url_factory
        self._feeds = feeds
        self._subs: dict[int, set[Subscription]] = {}
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.connected = asyncio.Event()
        self.closing = False
        self.notifications_received = 0

    # --- subscribers ------------------------------------------------------------------

    def subscribe(self, user_id: int) -> Subscription:
        sub = Subscription(user_id)
        self._subs.setdefault(user_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.user_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                self._subs.pop(sub.user_id, None)

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subs.values())

    def _broadcast(self, item: Any) -> None:
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub.offer(item)

    def close_streams(self) -> None:
        """End every open stream (thread-safe); browsers reconnect to another process."""
        self.closing = True
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._broadcast, CLOSE)

    # --- the listener -----------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._listen_forever(), name="realtime-listener")

    async def stop(self) -> None:
        self.closing = True
        self._broadcast(CLOSE)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def _listen_forever(self) -> None:
        delay = RECONNECT_MIN_S
        first = True
        while True:
            try:
                url = await run_in_threadpool(self._url_factory)
                async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    delay = RECONNECT_MIN_S
                    if not first:
                        log.info("realtime listener reconnected; streams re-sync")
                        self._broadcast(RESYNC)
                    first = False
                    async for notify in conn.notifies():
                        await self._dispatch(notify.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the listener must outlive database restarts
                self.connected.clear()
                log.warning("realtime listener lost its connection (%s); retrying in %.1f s",
                            type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)

    async def _dispatch(self, raw: str) -> None:
        self.notifications_received += 1
        try:
            payload = json.loads(raw)
            user_id = int(payload["user_id"])
        except (ValueError, TypeError, KeyError):
            log.warning("ignored a malformed notification on %s", CHANNEL)
            return
        subs = self._subs.get(user_id)
        if not subs:
            return  # nobody of that user is connected to this process
        event = None
        for module, feed in self._feeds():
            if payload.get("module") not in (None, module):
                continue
            try:
                event = await run_in_threadpool(feed.load, payload)
            except Exception:  # noqa: BLE001 - one bad row must not stop the listener
                log.exception("loading notification %s by the feed of %s failed", payload.get("log_id"), module)
                return
            if event is not None:
                break
        if event is None:
            return
        for sub in list(subs):
            sub.offer(event)


def hub_of(app) -> Hub:
    return app.state.realtime


def _install_shutdown_signal(hub: Hub) -> None:
    """End open streams as soon as the server is asked to stop.

    The server waits for open responses before it shuts the application down, and an event
    stream never ends by itself; so the stop signal itself closes the streams first.
    Only possible in the main thread (a server run from a thread is stopped by its owner).
    """
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            previous = signal.getsignal(signum)
        except ValueError:
            return
        if not callable(previous):
            continue

        def _handler(s, frame, _previous=previous):
            hub.close_streams()
            _previous(s, frame)

        try:
            signal.signal(signum, _handler)
        except ValueError:  # not the main thread
            return


@contextlib.asynccontextmanager
async def lifespan(app) -> AsyncIterator[None]:
    """Start this process's listener with the app and stop it with the app."""
    hub = Hub(database.current_url, lambda: feeds_of(app))
    app.state.realtime = hub
    await hub.start()
    _install_shutdown_signal(hub)
    try:
        yield
    finally:
        await hub.stop()
