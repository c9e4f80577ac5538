"""Real-time push: one LISTEN connection per process, fanned out to each user's own streams.

A real uvicorn server runs the app (its lifespan starts the listener); real HTTP clients
read the event stream; notifications are sent with `pg_notify` exactly as the reminder
worker sends them. A small module with a feed over a plain list stands in for the reminder
module here so the core is tested on its own (the reminder module's feed is tested with the
browser tests).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from app.core import database, realtime
from app.core.routes import events
from tests.browser.live_server import LiveServer, SSEClient, free_port
from tests.fixtures import make_user, token_for
from tests.modules_fixtures import set_env, write_module

LIST_FEED = '''
class ListFeed:
    """A feed over a plain list: enough to test what the core does with a feed."""

    def __init__(self) -> None:
        self.rows: dict[int, list[dict]] = {}

    def load(self, payload):
        if payload.get("drop"):
            return None
        return {"id": payload["log_id"], "event": payload.get("event", "reminder"), "title": f"row {payload['log_id']}",
                "unread": 7}

    def backlog(self, user_id, after_id):
        return [r for r in self.rows.get(user_id, []) if after_id is None or r["id"] > after_id]

    def unread_count(self, user_id):
        return len(self.rows.get(user_id, []))


feed = ListFeed()
'''


@pytest.fixture(scope="module")
def feed_app(db, tmp_path_factory):
    """An app whose only module has the list feed (module.json `"feed": "feed:feed"`)."""
    from app.main import create_app

    root = tmp_path_factory.mktemp("modules")
    name = write_module(root, "listfeed", manifest={"feed": "feed:feed"}, files={"feed.py": LIST_FEED},
                        router=None, views=None)
    old = set_env(MODULES_DIR=str(root))
    try:
        app = create_app()
    finally:
        set_env(**old)
    return app, importlib.import_module(f"app.modules.{name}.feed").feed


@pytest.fixture(scope="module")
def feed(feed_app):
    return feed_app[1]


@pytest.fixture(scope="module")
def server(feed_app):
    s = LiveServer(feed_app[0]).start()
    yield s
    s.stop()


def notify(user_id: int, log_id: int, event: str = "reminder", **extra) -> None:
    payload = json.dumps({"user_id": user_id, "log_id": log_id, "event": event, **extra})
    database.execute_query("SELECT pg_notify(%s, %s)", (realtime.CHANNEL, payload))


def deliver_log_row(user: dict) -> int:
    with database.transaction():
        event_id = database.execute_query(
            "INSERT INTO sag_reminder_queue (kind, status, target_user_id) VALUES ('rule', 'sent', %s) RETURNING id",
            (user["id"],))[0]["id"]
        return database.execute_query(
            "INSERT INTO sag_reminder_logs (event_id, user_id, recipient, channel, status, title, sent_at) "
            "VALUES (%s, %s, %s, 'in_app', 'sent', 'Delivered elsewhere', now()) RETURNING id",
            (event_id, user["id"], f"u:{user['id']}"))[0]["id"]


def stream(server, user, query: str = "", headers=None) -> SSEClient:
    h = {"Authorization": f"Bearer {token_for(user)}", **(headers or {})}
    client = SSEClient(f"{server.url}/api/v1/notifications/stream{query}", headers=h).start()
    assert client.status == 200
    client.next("hello")
    return client


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def test_stream_requires_a_signed_in_user(server):
    r = httpx.get(f"{server.url}/api/v1/notifications/stream")
    assert r.status_code == 401


def test_stream_sends_retry_hint_and_hello_with_unread_count(server, feed):
    user = make_user()
    feed.rows[user["id"]] = [{"id": 1, "title": "a"}, {"id": 2, "title": "b"}]
    c = SSEClient(f"{server.url}/api/v1/notifications/stream",
                  headers={"Authorization": f"Bearer {token_for(user)}"}).start()
    try:
        first = c.next("reminder")
        assert first.id == "1" and first.data["replayed"] is True
        assert c.next("reminder").id == "2"
        assert c.next("hello").data == {"unread": 2}
    finally:
        c.close()


def test_a_user_receives_only_own_notifications(server):
    alice, bob = make_user(), make_user()
    a, b = stream(server, alice), stream(server, bob)
    try:
        notify(alice["id"], 101)
        notify(bob["id"], 202)
        ev = a.next()
        assert (ev.event, ev.id, ev.data["title"]) == ("reminder", "101", "row 101")
        # Notifications pass one listener in order: bob's first event proves alice's did not reach him.
        assert b.next().id == "202"
    finally:
        a.close()
        b.close()


def test_every_open_tab_of_the_user_gets_the_event(server):
    user = make_user()
    tabs = [stream(server, user) for _ in range(3)]
    try:
        notify(user["id"], 303)
        assert [t.next("reminder").id for t in tabs] == ["303", "303", "303"]
    finally:
        for t in tabs:
            t.close()


def test_update_events_carry_no_id(server):
    user = make_user()
    c = stream(server, user)
    try:
        notify(user["id"], 404, event="update")
        ev = c.next()
        assert ev.event == "update" and ev.id is None and ev.data["unread"] == 7
    finally:
        c.close()


def test_a_dropped_or_malformed_notification_does_not_stop_the_stream(server):
    user = make_user()
    c = stream(server, user)
    try:
        database.execute_query("SELECT pg_notify(%s, %s)", (realtime.CHANNEL, "not json"))
        database.execute_query("SELECT pg_notify(%s, %s)", (realtime.CHANNEL, '{"user_id": "x"}'))
        notify(user["id"], 500, drop=True)
        notify(user["id"], 501)
        assert c.next().id == "501"
    finally:
        c.close()


def test_one_listen_connection_per_process_whatever_the_number_of_streams(server):
    users = [make_user() for _ in range(3)]
    streams = [stream(server, u) for u in users for _ in range(2)]
    try:
        rows = database.execute_query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
            "AND query ILIKE %s", (f"LISTEN {realtime.CHANNEL}%",))
        assert rows[0]["n"] == 1
        assert server.app.state.realtime.subscriber_count() >= 6
    finally:
        for s in streams:
            s.close()


def test_last_event_id_replays_only_what_was_missed(server, feed):
    user = make_user()
    feed.rows[user["id"]] = [{"id": 10, "title": "old"}, {"id": 11, "title": "missed"}, {"id": 12, "title": "missed"}]
    c = SSEClient(f"{server.url}/api/v1/notifications/stream",
                  headers={"Authorization": f"Bearer {token_for(user)}", "Last-Event-ID": "10"}).start()
    try:
        assert [c.next("reminder").id, c.next("reminder").id] == ["11", "12"]
        c.next("hello")
        # A live event for a replayed id is not sent twice on the same stream.
        notify(user["id"], 12)
        notify(user["id"], 13)
        assert c.next("reminder").id == "13"
    finally:
        c.close()


def test_after_query_parameter_works_like_last_event_id(server, feed):
    user = make_user()
    feed.rows[user["id"]] = [{"id": 20, "title": "a"}, {"id": 21, "title": "b"}]
    c = SSEClient(f"{server.url}/api/v1/notifications/stream?after=20",
                  headers={"Authorization": f"Bearer {token_for(user)}"}).start()
    try:
        assert c.next("reminder").id == "21"
    finally:
        c.close()


def test_heartbeats_keep_an_idle_stream_open(server, monkeypatch):
    monkeypatch.setattr(events, "HEARTBEAT_S", 0.2)
    user = make_user()
    c = stream(server, user)
    try:
        wait_for(lambda: c.comments >= 2)
    finally:
        c.close()


def test_a_browser_that_goes_away_leaves_no_subscription_behind(server):
    # Noticed through the closed connection itself, without waiting for a heart-beat (15 s).
    hub = server.app.state.realtime
    user = make_user()
    c = stream(server, user)
    wait_for(lambda: user["id"] in hub._subs)
    c.close()
    wait_for(lambda: user["id"] not in hub._subs, 30)


def test_listener_reconnects_after_losing_its_connection_and_streams_resync(server, feed):
    user = make_user()
    c = stream(server, user)
    try:
        hub = server.app.state.realtime
        database.execute_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND query ILIKE %s", (f"LISTEN {realtime.CHANNEL}%",))
        wait_for(lambda: not hub.connected.is_set(), 5)
        # Delivered while the listener was away: the re-sync replays it from the feed.
        feed.rows[user["id"]] = [{"id": 700, "title": "while away"}]
        wait_for(hub.connected.is_set, 20)
        assert c.next("reminder").id == "700"
        notify(user["id"], 701)
        assert c.next("reminder").id == "701"
    finally:
        c.close()


def test_closing_streams_ends_them_so_the_server_can_stop(server):
    user = make_user()
    c = stream(server, user)
    hub = server.app.state.realtime
    before = hub.subscriber_count()
    hub._broadcast(realtime.CLOSE)  # what close_streams() sends on shutdown, without stopping the server
    c._thread.join(10)
    assert not c._thread.is_alive()
    assert hub.subscriber_count() < before


def test_a_notification_reaches_streams_on_every_app_process(server, db):
    """A second app process (its own listener) gets the same notification as this one."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        other = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{other}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "second process did not start"
            time.sleep(0.2)
        user = make_user()
        here = stream(server, user)
        headers = {"Authorization": f"Bearer {token_for(user)}"}
        there = SSEClient(f"{other}/api/v1/notifications/stream", headers=headers).start()
        try:
            there.next("hello", timeout=30)
            wait_for(lambda: database.execute_query(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE %s",
                (f"LISTEN {realtime.CHANNEL}%",))[0]["n"] == 2, 20)
            # A delivered in-app log row, as a worker in any process writes it: its trigger notifies.
            log_id = deliver_log_row(user)
            assert here.next("reminder", timeout=30).id == str(log_id)
            ev = there.next("reminder", timeout=30)
            assert ev.id == str(log_id) and ev.data["title"] == "Delivered elsewhere"
        finally:
            here.close()
            there.close()
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


STREAMS_SHARING = 100


def test_many_streams_share_the_one_listen_connection_and_hold_no_connection_or_thread(server):
    """N open streams: still one LISTEN connection, no pooled connection checked out by a stream, and
    far fewer new threads than streams (the backlog reads borrow the bounded thread pool briefly)."""
    import asyncio
    import threading

    users = [make_user() for _ in range(STREAMS_SHARING)]
    threads_before = threading.active_count()

    async def open_streams_and_look() -> dict:
        limits = httpx.Limits(max_connections=STREAMS_SHARING + 5)
        async with httpx.AsyncClient(base_url=server.url, timeout=httpx.Timeout(30, read=None), limits=limits) as c:
            hellos = [asyncio.Event() for _ in users]

            async def read(user, hello):
                headers = {"Authorization": f"Bearer {token_for(user)}"}
                async with c.stream("GET", "/api/v1/notifications/stream", headers=headers) as r:
                    async for line in r.aiter_lines():
                        if line == "event: hello":
                            hello.set()

            tasks = [asyncio.create_task(read(u, h)) for u, h in zip(users, hellos, strict=True)]
            await asyncio.wait_for(asyncio.gather(*(h.wait() for h in hellos)), 60)
            await asyncio.sleep(0.2)  # let the last backlog reads hand their connections back
            stats = database.get_pool().get_stats()
            seen = {
                "subscribers": server.app.state.realtime.subscriber_count(),
                "listening": database.execute_query(
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
                    "AND query ILIKE %s", (f"LISTEN {realtime.CHANNEL}%",))[0]["n"],
                "checked_out": stats.get("pool_size", 0) - stats.get("pool_available", 0),
                "new_threads": threading.active_count() - threads_before,
            }
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return seen

    seen = asyncio.run(open_streams_and_look())
    assert seen["subscribers"] >= STREAMS_SHARING
    assert seen["listening"] == 1
    # The query above borrowed one pooled connection itself; no stream holds one.
    assert seen["checked_out"] <= 1
    assert seen["new_threads"] < STREAMS_SHARING // 2
