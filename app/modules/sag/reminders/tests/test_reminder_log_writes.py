"""How a batch writes its log rows: an event's first write is a plain INSERT (no log row can
exist before its first reservation), a later one skips what an earlier attempt wrote; either
way the log's unique delivery key is what stops a row being written twice."""

from __future__ import annotations

from datetime import timedelta

from app.core import database
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    events,
    logs,
    make_case,
    make_rule,
    run_worker,
)
from tests.fixtures import make_user

AFTER_BACKOFF = timedelta(minutes=10)  # beyond the first retry's back-off


def _queued_event() -> tuple[dict, dict, dict, int]:
    """A due status-change event for one user's case, on both built-in channels, not yet claimed."""
    clear_queue()
    user = make_user()
    rule = make_rule(recipients={"assignee": True}, channels=["in_app", "email"], group_window_minutes=0)
    case = make_case(assigned_to=user["id"])
    event_id = database.execute_insert(
        "INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, event_data) "
        "VALUES (%s, %s, 'rule', 'status_change', '{\"old_status\": \"new\", \"new_status\": \"in_progress\"}')",
        (rule["id"], case["id"]))
    return rule, case, user, event_id


def test_an_event_writes_one_row_per_recipient_and_channel(app):
    rule, case, user, event_id = _queued_event()
    run_worker()
    rows = logs(event_id=event_id)
    assert sorted((r["recipient"], r["channel"], r["status"]) for r in rows) == [
        (f"u:{user['id']}", "email", "sent"), (f"u:{user['id']}", "in_app", "sent")]
    assert events(id=event_id)[0]["status"] == "sent"


def test_a_row_already_there_before_the_first_write_fails_the_batch_and_the_retry_writes_the_rest(app):
    # Cannot happen through the engine (rows follow their event's reservation); written by hand
    # here to show the delivery key, not the write's bookkeeping, is what refuses a second row.
    rule, case, user, event_id = _queued_event()
    database.execute_update(
        "INSERT INTO sag_reminder_logs (event_id, rule_id, sag_id, user_id, recipient, channel, status, title) "
        "VALUES (%s, %s, %s, %s, %s, 'in_app', 'sent', 'Written by hand')",
        (event_id, rule["id"], case["id"], user["id"], f"u:{user['id']}"))

    run_worker()
    event = events(id=event_id)[0]
    assert event["status"] == "pending"
    assert "sag_reminder_logs_delivery_key" in event["last_error"]
    assert [r["title"] for r in logs(event_id=event_id)] == ["Written by hand"]  # the batch wrote nothing

    run_worker(offset=AFTER_BACKOFF)  # reserved before: what exists is skipped, the e-mail written
    rows = logs(event_id=event_id)
    assert sorted((r["channel"], r["title"] == "Written by hand") for r in rows) == [
        ("email", False), ("in_app", True)]
    assert events(id=event_id)[0]["status"] == "sent"


def test_an_event_retried_after_its_rows_were_written_writes_none_twice(app):
    rule, case, user, event_id = _queued_event()
    run_worker()
    first = {(r["recipient"], r["channel"]): r["id"] for r in logs(event_id=event_id)}
    # Put back as if its worker had died after the write, before closing it.
    database.execute_update("UPDATE sag_reminder_queue SET status = 'pending', scheduled_for = now() "
                            "WHERE id = %s", (event_id,))
    run_worker()
    assert {(r["recipient"], r["channel"]): r["id"] for r in logs(event_id=event_id)} == first
    assert events(id=event_id)[0]["status"] == "sent"
