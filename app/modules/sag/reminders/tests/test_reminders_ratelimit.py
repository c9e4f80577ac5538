"""The per-user hourly cap holds across concurrent workers; what is held back stays visible and is summarised once."""

from __future__ import annotations

import threading
from datetime import timedelta

from app.core import database
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    db_now,
    events,
    logs,
    make_case,
    make_rule,
    run_worker,
)
from app.modules.sag.reminders.worker import ReminderWorker
from tests.fixtures import make_user

CAP = 5


def _flood(user_ids: list[int], n_cases: int, rule: dict | None = None) -> dict:
    cases = [make_case(assigned_to=user_ids[0]) for _ in range(n_cases)]
    # Grouping off: the cap is counted on the per-case reminders (test_storm_grouping.py groups them).
    rule = rule or make_rule(recipients={"users": user_ids}, trigger_config={"from": "new", "to": "on_hold"},
                             group_window_minutes=0)
    database.execute_update("UPDATE sag_sager SET status = 'on_hold' WHERE id = ANY(%s)", ([c["id"] for c in cases],))
    return rule


def _hour_offset() -> timedelta:
    # Keep the whole test inside one rate window: run "now" at 10 minutes past the next hour.
    now = db_now()
    nxt = now.replace(minute=10, second=0, microsecond=0) + timedelta(hours=1)
    return nxt - now


def test_cap_is_never_exceeded_by_four_concurrent_workers(app):
    clear_queue()
    users = [make_user() for _ in range(3)]
    for u in users:
        database.execute_update("UPDATE user_notification_preferences SET max_per_hour = %s WHERE user_id = %s",
                                (CAP, u["id"]))
    rule = _flood([u["id"] for u in users], 60)
    offset = _hour_offset()
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def work():
        w = ReminderWorker(offset=offset, batch_size=3)
        try:
            barrier.wait()
            w.drain()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            w.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    for u in users:
        rows = logs(rule_id=rule["id"], user_id=u["id"])
        assert len(rows) == 60                                  # nothing dropped
        assert sum(r["status"] == "sent" for r in rows) == CAP  # never more than the cap
        assert sum(r["status"] == "rate_limited" for r in rows) == 60 - CAP
    assert all(e["status"] == "sent" for e in events(reminder_id=rule["id"]))


def test_one_held_back_summary_per_window_outside_the_cap(app):
    clear_queue()
    u = make_user()
    database.execute_update("UPDATE user_notification_preferences SET max_per_hour = 2 WHERE user_id = %s", (u["id"],))
    rule = _flood([u["id"]], 4)
    offset = _hour_offset()
    run_worker(offset=offset)
    _flood([u["id"]], 3, rule)  # later in the same window: still one summary
    run_worker(offset=offset + timedelta(minutes=5))
    summaries = events(kind="held_back", target_user_id=u["id"])
    assert len(summaries) == 1 and summaries[0]["status"] == "pending"
    run_worker(offset=offset + timedelta(minutes=51))           # the window has ended
    [summary] = [r for r in logs(user_id=u["id"]) if r["rule_id"] is None]
    assert summary["status"] == "sent" and summary["channel"] == "in_app"
    assert summary["title"] == "5 reminders held back"
    limited = [r for r in logs(user_id=u["id"]) if r["status"] == "rate_limited"]
    assert {r["rule_id"] for r in limited} == {rule["id"]} and len(limited) == 5
    # the next window starts with a fresh allowance
    _flood([u["id"]], 1, rule)
    run_worker(offset=offset + timedelta(minutes=52))
    assert logs(rule_id=rule["id"], user_id=u["id"])[-1]["status"] == "sent"
