"""@mentions notify through the reminder engine: a real worker, real preferences, a real SMTP server."""

from __future__ import annotations

from app.core import database
from app.modules.sag.conversation.tests.mentions_helpers import (
    add_note,
    drain,
    edit_note,
    notifications,
    outbox,  # noqa: F401 - fixture
    overrides,
)
from app.modules.sag.reminders.tests.reminders_helpers import clear_queue, make_case, prefs
from tests.fixtures import make_user

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def test_a_mention_notifies_the_mentioned_user_in_app_and_by_email(app, outbox):  # noqa: F811 - the outbox fixture
    clear_queue()
    author, anna = make_user(full_name="Sofie Hansen"), make_user()
    case = make_case(title="Printer jams")
    add_note(case["id"], author, f"@{anna['username']} can you look at the printer?")
    drain()
    rows = notifications("mention", case["id"])
    assert sorted((r["user_id"], r["channel"], r["status"]) for r in rows) == [
        (anna["id"], "email", "sent"), (anna["id"], "in_app", "sent")]
    assert rows[0]["title"] == f"Sofie Hansen mentioned you on #{case['id']}: Printer jams"
    assert "can you look at the printer?" in rows[0]["message"]
    [msg] = [m for m in outbox.messages if m["To"].endswith(f"<{anna['email']}>") or m["To"] == anna["email"]]
    assert "mentioned you" in msg["Subject"]


def test_mentions_by_quoted_full_name_are_case_insensitive_and_only_for_active_users(app):
    clear_queue()
    author = make_user()
    anna = make_user(full_name="Anna Jensen")
    gone = make_user(full_name="Ole Gone", active=False)
    case = make_case()
    add_note(case["id"], author, f'Hi @"anna jensen" and @"Ole Gone" and @{gone["username"].upper()}')
    drain()
    assert {r["user_id"] for r in notifications("mention", case["id"])} == {anna["id"]}


def test_one_notification_per_note_even_when_mentioned_twice_and_never_the_author(app):
    clear_queue()
    author, anna = make_user(), make_user()
    case = make_case()
    add_note(case["id"], author, f"@{anna['username']} and again @{anna['username']}, cc @{author['username']}")
    drain()
    rows = notifications("mention", case["id"], channel="in_app")
    assert [r["user_id"] for r in rows] == [anna["id"]]


def test_an_edit_that_adds_a_mention_notifies_only_the_new_one(app):
    clear_queue()
    author, anna, bo = make_user(), make_user(), make_user()
    case = make_case()
    note = add_note(case["id"], author, f"@{anna['username']} please check")
    drain()
    edit_note(note["id"], author, f"@{anna['username']} please check, and @{bo['username']} too")
    drain()
    rows = notifications("mention", case["id"], channel="in_app")
    assert [r["user_id"] for r in rows] == [anna["id"], bo["id"]]
    # Removing and re-adding a mention does not notify again: once per note.
    edit_note(note["id"], author, "nobody")
    edit_note(note["id"], author, f"@{bo['username']} back again")
    drain()
    assert [r["user_id"] for r in notifications("mention", case["id"], channel="in_app")] == [anna["id"], bo["id"]]


def test_the_mentions_preference_turns_a_channel_off(app):
    clear_queue()
    author, anna = make_user(), make_user()
    overrides(anna["id"], {"mention": {"email": False}})
    case = make_case()
    add_note(case["id"], author, f"@{anna['username']} hello")
    drain()
    statuses = {r["channel"]: r["status"] for r in notifications("mention", case["id"])}
    assert statuses == {"in_app": "sent", "email": "suppressed"}


def test_the_mentions_override_wins_over_the_channel_switch(app):
    clear_queue()
    author, anna = make_user(), make_user()
    prefs(anna["id"], in_app_enabled=False)
    overrides(anna["id"], {"mention": {"in_app": True}})
    case = make_case()
    add_note(case["id"], author, f"@{anna['username']} hello")
    drain()
    assert {r["channel"]: r["status"] for r in notifications("mention", case["id"])}["in_app"] == "sent"


def test_mentions_count_against_the_hourly_limit(app):
    clear_queue()
    author, anna = make_user(), make_user()
    prefs(anna["id"], max_per_hour=1)
    case = make_case()
    for i in range(3):
        add_note(case["id"], author, f"@{anna['username']} number {i}")
    drain()
    statuses = [r["status"] for r in notifications("mention", case["id"], channel="in_app")]
    assert statuses == ["sent", "rate_limited", "rate_limited"]


def test_quiet_hours_defer_the_mention_email(app):
    clear_queue()
    author, anna = make_user(), make_user(timezone="UTC")
    now = database.execute_query("SELECT now() AS now")[0]["now"]
    start = (now.hour - 1) % 24
    prefs(anna["id"], quiet_hours_start=f"{start:02d}:00", quiet_hours_end=f"{(now.hour + 2) % 24:02d}:00")
    case = make_case()
    add_note(case["id"], author, f"@{anna['username']} hello")
    drain()
    assert {r["channel"]: r["status"] for r in notifications("mention", case["id"])} == {
        "in_app": "sent", "email": "deferred"}


def test_mentioned_users_become_watchers_unless_they_unwatched(app):
    clear_queue()
    author, anna, bo = make_user(), make_user(), make_user()
    case = make_case()
    database.execute_update("INSERT INTO sag_watchers (sag_id, user_id, reason, unwatched) "
                            "VALUES (%s, %s, 'manual', TRUE)", (case["id"], bo["id"]))
    add_note(case["id"], author, f"@{anna['username']} @{bo['username']}")
    drain()
    rows = {r["user_id"]: r for r in database.execute_query(
        "SELECT * FROM sag_watchers WHERE sag_id = %s", (case["id"],))}
    assert rows[anna["id"]]["reason"] == "mention" and not rows[anna["id"]]["unwatched"]
    assert rows[bo["id"]]["unwatched"]
    assert rows[author["id"]]["reason"] == "note"


def test_a_deleted_note_notifies_nobody(app):
    clear_queue()
    author, anna = make_user(), make_user()
    case = make_case()
    note = add_note(case["id"], author, f"@{anna['username']} oops")
    with database.transaction() as conn:
        from app.modules.sag.conversation import notes

        notes.delete_note(conn, note["id"], author["id"])
    drain()
    assert notifications("mention", case["id"]) == []


def test_an_xss_payload_is_plain_text_in_the_notification_and_escaped_in_the_email(app, outbox):  # noqa: F811 - the outbox fixture
    clear_queue()
    author, anna = make_user(full_name=XSS), make_user()
    case = make_case(title=XSS)
    add_note(case["id"], author, f"@{anna['username']} {XSS}")
    drain()
    [row] = notifications("mention", case["id"], channel="in_app")
    assert XSS in row["title"] and XSS in row["message"]  # stored as text; the toast sets textContent
    [msg] = outbox.messages
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert XSS in msg.get_body(preferencelist=("plain",)).get_content()
