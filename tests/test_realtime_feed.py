"""The reminder module's feed for live notifications: what a stream shows, replays and counts."""

from __future__ import annotations

import itertools

from app.core import database, realtime
from app.modules.sag.reminders.feed import feed
from tests.fixtures import make_user

_n = itertools.count()


def log_row(user: dict, *, status: str = "sent", channel: str = "in_app", title: str = "Reminder",
            case_id: int | None = None, **state) -> int:
    with database.transaction():
        event_id = database.execute_query(
            "INSERT INTO sag_reminder_queue (kind, status, sag_id) VALUES ('rule', 'sent', %s) RETURNING id",
            (case_id,))[0]["id"]
        cols = ", ".join(["event_id", "user_id", "recipient", "channel", "status", "title", "sag_id", *state])
        marks = ", ".join(["%s"] * (7 + len(state)))
        return database.execute_query(
            f"INSERT INTO sag_reminder_logs ({cols}) VALUES ({marks}) RETURNING id",  # noqa: S608 - test's own names
            (event_id, user["id"], f"u:{user['id']}:{next(_n)}", channel, status, title, case_id,
             *state.values()))[0]["id"]


def test_the_feed_is_handed_to_the_core_by_the_module_host(app):
    assert ("sag", feed) in realtime.feeds_of(app)


def test_load_returns_the_row_with_case_number_link_and_unread_count():
    user = make_user()
    case_id = database.execute_query(
        "INSERT INTO sag_sager (title, assigned_to) VALUES ('<b>Server down</b>', %s) RETURNING id", (user["id"],)
    )[0]["id"]
    log_id = log_row(user, case_id=case_id, title="Look at it")
    ev = feed.load({"user_id": user["id"], "log_id": log_id, "event": "reminder"})
    assert ev["event"] == "reminder" and ev["title"] == "Look at it"
    assert ev["case_number"] == f"#{case_id}" and ev["case_title"] == "<b>Server down</b>"
    assert ev["url"] == f"/sag/{case_id}" and ev["unread"] == 1
    assert isinstance(ev["created_at"], str)


def test_load_never_returns_another_users_row():
    owner, other = make_user(), make_user()
    log_id = log_row(owner)
    assert feed.load({"user_id": other["id"], "log_id": log_id, "event": "reminder"}) is None
    assert feed.load({"user_id": owner["id"], "log_id": 10**12, "event": "reminder"}) is None
    assert feed.load({"user_id": "x", "log_id": log_id}) is None


def test_a_row_that_was_not_delivered_in_app_never_pops_up():
    user = make_user()
    for status, channel in (("suppressed", "in_app"), ("rate_limited", "in_app"), ("sent", "email")):
        log_id = log_row(user, status=status, channel=channel)
        assert feed.load({"user_id": user["id"], "log_id": log_id, "event": "reminder"})["event"] == "update"


def test_backlog_has_unseen_reminders_but_not_done_or_foreign_ones():
    user, other = make_user(), make_user()
    fresh = log_row(user)
    log_row(user, seen_at="2026-01-01T00:00:00Z")
    log_row(user, dismissed_at="2026-01-01T00:00:00Z")
    log_row(user, snoozed_until="2099-01-01T00:00:00Z")
    log_row(user, acknowledged_at="2026-01-01T00:00:00Z")
    log_row(user, status="rate_limited")
    log_row(user, channel="email")
    log_row(other)
    assert [r["id"] for r in feed.backlog(user["id"], None)] == [fresh]
    # Unread (the bell) is "delivered, neither seen nor dismissed", as the reminder API counts it.
    assert feed.unread_count(user["id"]) == 3


def test_backlog_after_an_id_adds_seen_reminders_the_stream_missed():
    user = make_user()
    first = log_row(user)
    seen_later = log_row(user, seen_at="2026-01-01T00:00:00Z")
    ids = [r["id"] for r in feed.backlog(user["id"], first)]
    assert ids == [first, seen_later]  # unseen always; seen ones only after the last id
    assert [r["id"] for r in feed.backlog(user["id"], seen_later)] == [first]
