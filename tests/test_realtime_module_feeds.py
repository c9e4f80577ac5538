"""Feeds come from the enabled modules (module.json `"feed"`): disabling a module removes its
feed, so the stream stops delivering its notifications; enabling it brings them back."""

from __future__ import annotations

import asyncio
import importlib
import json

import pytest

from app.core import database, realtime
from app.core.modules import service
from tests.browser.live_server import LiveServer, SSEClient
from tests.fixtures import make_user, token_for
from tests.modules_fixtures import set_env, write_module

TAGGING_FEED = '''
class TaggingFeed:
    def __init__(self):
        self.seen = []

    def load(self, payload):
        self.seen.append(payload["log_id"])
        return {"id": payload["log_id"], "event": "reminder", "by": "%(name)s"}

    def backlog(self, user_id, after_id):
        return []

    def unread_count(self, user_id):
        return 1


feed = TaggingFeed()
'''


@pytest.fixture(scope="module")
def server(app):
    s = LiveServer(app).start()
    yield s
    s.stop()


def deliver_log_row(user: dict) -> int:
    """A delivered in-app row, as the reminder worker writes it: its trigger notifies."""
    with database.transaction():
        event_id = database.execute_query(
            "INSERT INTO sag_reminder_queue (kind, status, target_user_id) VALUES ('rule', 'sent', %s) RETURNING id",
            (user["id"],))[0]["id"]
        return database.execute_query(
            "INSERT INTO sag_reminder_logs (event_id, user_id, recipient, channel, status, title, sent_at) "
            "VALUES (%s, %s, %s, 'in_app', 'sent', 'A reminder', now()) RETURNING id",
            (event_id, user["id"], f"u:{user['id']}"))[0]["id"]


def test_disabling_sag_removes_its_feed_and_enabling_brings_it_back(server, app):
    host = app.state.modules
    user = make_user()
    c = SSEClient(f"{server.url}/api/v1/notifications/stream",
                  headers={"Authorization": f"Bearer {token_for(user)}"}).start()
    try:
        c.next("hello")
        first = deliver_log_row(user)
        ev = c.next("reminder")
        assert ev.id == str(first) and ev.data["url"] == "/sag/reminders"  # shaped by sag's feed

        service.disable(host, "sag", None)
        assert [m for m, _f in realtime.feeds_of(app)] == []
        missed = deliver_log_row(user)
        service.enable(host, "sag", None)
        assert [m for m, _f in realtime.feeds_of(app)] == ["sag"]
        back = deliver_log_row(user)
        # The row delivered while sag was disabled never reached the stream; the next one did.
        ev = c.next("reminder")
        assert ev.id == str(back) and ev.id != str(missed)
    finally:
        c.close()
        service.enable(host, "sag", None)


def test_a_payload_naming_its_module_goes_to_that_modules_feed_only(tmp_path):
    from app.main import create_app

    one = write_module(tmp_path, "feed_one", manifest={"feed": "feed:feed"}, files={"feed.py": TAGGING_FEED})
    two = write_module(tmp_path, "feed_two", manifest={"feed": "feed:feed"}, files={"feed.py": TAGGING_FEED})
    old = set_env(MODULES_DIR=str(tmp_path))
    try:
        app = create_app()
    finally:
        set_env(**old)
    feed_one = importlib.import_module(f"app.modules.{one}.feed").feed
    feed_two = importlib.import_module(f"app.modules.{two}.feed").feed
    hub = realtime.Hub(lambda: "unused", lambda: realtime.feeds_of(app))
    sub = hub.subscribe(5)

    async def dispatch(payload):
        await hub._dispatch(json.dumps(payload))
        return sub.queue.get_nowait()

    # Named: only that module's feed is asked.
    assert asyncio.run(dispatch({"user_id": 5, "log_id": 1, "module": two}))["by"] == two
    assert (feed_one.seen, feed_two.seen) == ([], [1])
    # Not named: the first feed in load order that returns an event wins.
    assert asyncio.run(dispatch({"user_id": 5, "log_id": 2}))["by"] == one
    assert (feed_one.seen, feed_two.seen) == ([2], [1])

    service.disable(app.state.modules, one, None)
    assert realtime.feeds_of(app) == [(two, feed_two)]
    assert asyncio.run(dispatch({"user_id": 5, "log_id": 3}))["by"] == two
