"""Summaries (quiet-hours digest, held-back notice) follow the preferences as they are at send time."""

from __future__ import annotations

from datetime import timedelta

from app.core import database
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    db_now,
    events,
    logs,
    make_case,
    make_rule,
    prefs,
    run_worker,
    set_status,
)
from tests.fixtures import make_user


def _quiet_now(user_id: int, hours_left: int = 2) -> None:
    """Quiet hours (user in UTC) that contain the database's now and end `hours_left` later."""
    now = db_now()
    prefs(user_id, quiet_hours_start=(now - timedelta(hours=1)).time().replace(second=0, microsecond=0),
          quiet_hours_end=(now + timedelta(hours=hours_left)).time().replace(second=0, microsecond=0))


def _email_reminder_in_quiet_hours():
    """A user in quiet hours and an e-mail reminder for them, already processed once by a worker."""
    clear_queue()
    u = make_user(timezone="UTC")
    _quiet_now(u["id"])
    case = make_case(assigned_to=u["id"])
    rule = make_rule(sag_id=case["id"], channels=["email"])
    set_status(case["id"], "in_progress")
    run_worker()
    return u, rule


def test_digest_is_not_mailed_when_email_was_switched_off_during_quiet_hours(app):
    u, rule = _email_reminder_in_quiet_hours()
    assert {r["status"] for r in logs(rule_id=rule["id"])} == {"deferred"}
    prefs(u["id"], email_enabled=False)
    run_worker(offset=timedelta(hours=2, minutes=1))
    [row] = logs(rule_id=rule["id"])
    assert row["status"] == "suppressed" and row["sent_at"] is None
    assert events(kind="digest", target_user_id=u["id"])[0]["status"] == "sent"  # handled, nothing mailed


def test_digest_keeps_an_email_the_triggers_override_still_wants(app):
    u, rule = _email_reminder_in_quiet_hours()
    prefs(u["id"], email_enabled=False)
    database.execute_update("UPDATE user_notification_preferences SET trigger_overrides = "
                            "'{\"status_change\": {\"email\": true}}' WHERE user_id = %s", (u["id"],))
    run_worker(offset=timedelta(hours=2, minutes=1))
    assert logs(rule_id=rule["id"])[0]["status"] == "sent"


def test_held_back_email_summary_waits_for_the_end_of_quiet_hours(app):
    clear_queue()
    u = make_user(timezone="UTC")
    prefs(u["id"], in_app_enabled=False, max_per_hour=1)
    now = db_now()
    window = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)  # next clock hour
    offset = window + timedelta(minutes=10) - now                               # worker "now": 10 past it
    window_end = window + timedelta(hours=1)
    # quiet hours from half an hour before the window ends until two hours after
    prefs(u["id"], quiet_hours_start=(window_end - timedelta(minutes=30)).time(),
          quiet_hours_end=(window_end + timedelta(hours=2)).time())
    rule = make_rule(recipients={"users": [u["id"]]}, channels=["email"],
                     trigger_config={"from": "new", "to": "on_hold"})
    cases = [make_case() for _ in range(3)]
    database.execute_update("UPDATE sag_sager SET status = 'on_hold' WHERE id = ANY(%s)", ([c["id"] for c in cases],))
    run_worker(offset=offset)
    statuses = sorted(r["status"] for r in logs(rule_id=rule["id"], user_id=u["id"]))
    assert statuses == ["rate_limited", "rate_limited", "sent"]
    run_worker(offset=offset + timedelta(minutes=51))  # the window is over, but it is quiet time
    [summary] = events(kind="held_back", target_user_id=u["id"])
    assert summary["status"] == "pending"
    assert abs((summary["scheduled_for"] - (window_end + timedelta(hours=2))).total_seconds()) < 1
    assert [r for r in logs(user_id=u["id"]) if r["rule_id"] is None] == []
    run_worker(offset=offset + timedelta(hours=2, minutes=51))  # quiet hours are over
    [row] = [r for r in logs(user_id=u["id"]) if r["rule_id"] is None]
    assert row["channel"] == "email" and row["status"] == "sent" and row["title"] == "2 reminders held back"
    assert events(kind="held_back", target_user_id=u["id"])[0]["status"] == "sent"
