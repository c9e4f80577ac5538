"""Each trigger type fires exactly once, at the right time; rules and cases (re)schedule and cancel."""

from __future__ import annotations

from datetime import UTC, timedelta

from app.core import database
from app.modules.sag.reminders import store as reminders_store
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    db_now,
    events,
    inbox,
    logs,
    make_case,
    make_rule,
    run_worker,
    set_status,
)
from tests.fixtures import make_user


def test_status_change_enqueues_in_the_same_transaction_and_fires_once(app):
    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"])
    rule = make_rule(trigger_config={"from": "new", "to": "in_progress"})
    with database.transaction():
        set_status(case["id"], "in_progress")
        [queued] = inbox(reminder_id=rule["id"])  # written inside the changing transaction
        assert queued["event_data"]["from"] == "new" and queued["event_data"]["to"] == "in_progress"
    assert run_worker() == 1
    assert run_worker() == 0
    rows = logs(rule_id=rule["id"])
    assert [(r["user_id"], r["channel"], r["status"]) for r in rows] == [(u["id"], "in_app", "sent")]


def test_status_change_from_and_to_filters_and_any(app):
    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"])
    to_hold = make_rule(trigger_config={"from": "any", "to": "on_hold"})
    from_new = make_rule(trigger_config={"from": "new", "to": "any"})
    other_case = make_rule(sag_id=make_case()["id"], trigger_config={"from": "any", "to": "any"})
    set_status(case["id"], "in_progress")
    set_status(case["id"], "on_hold")
    run_worker()
    assert len(logs(rule_id=to_hold["id"])) == 1
    assert len(logs(rule_id=from_new["id"])) == 1
    assert logs(rule_id=other_case["id"]) == []


def test_rolled_back_status_change_enqueues_nothing(app):
    clear_queue()
    case = make_case()
    rule = make_rule()
    try:
        with database.transaction():
            set_status(case["id"], "on_hold")
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert events(reminder_id=rule["id"]) == [] and inbox(reminder_id=rule["id"]) == []


def test_new_case_counts_as_change_into_its_status(app):
    clear_queue()
    u = make_user()
    rule = make_rule(trigger_config={"from": "any", "to": "new"}, recipients={"users": [u["id"]]})
    case = make_case()
    run_worker()
    assert [r["sag_id"] for r in logs(rule_id=rule["id"])] == [case["id"]]


def test_deadline_rule_fires_once_at_deadline_minus_offset(app):
    clear_queue()
    u = make_user()
    deadline = db_now() + timedelta(days=2)
    case = make_case(assigned_to=u["id"], deadline=deadline)
    rule = make_rule(sag_id=case["id"], trigger_type="deadline", trigger_config={"offset_hours": 24})
    [ev] = events(reminder_id=rule["id"], status="pending")
    assert abs((ev["scheduled_for"] - (deadline - timedelta(hours=24))).total_seconds()) < 1
    assert run_worker() == 0  # not due yet
    assert run_worker(offset=timedelta(hours=23, minutes=59)) == 0
    assert run_worker(offset=timedelta(hours=24, seconds=5)) == 1
    assert run_worker(offset=timedelta(hours=30)) == 0
    assert len(logs(rule_id=rule["id"])) == 1


def test_deadline_change_reschedules_and_closing_cancels(app):
    clear_queue()
    case = make_case(deadline=db_now() + timedelta(days=3))
    rule = make_rule(trigger_type="deadline", trigger_config={"offset_minutes": 60})
    new_deadline = db_now() + timedelta(days=5)
    database.execute_update("UPDATE sag_sager SET deadline = %s WHERE id = %s", (new_deadline, case["id"]))
    pending = [e for e in events(reminder_id=rule["id"], sag_id=case["id"]) if e["status"] == "pending"]
    assert len(pending) == 1
    assert abs((pending[0]["scheduled_for"] - (new_deadline - timedelta(hours=1))).total_seconds()) < 1
    assert any(e["status"] == "cancelled" and e["last_error"] == "deadline changed"
               for e in events(reminder_id=rule["id"], sag_id=case["id"]))
    set_status(case["id"], "closed")
    assert [e for e in events(reminder_id=rule["id"], sag_id=case["id"]) if e["status"] == "pending"] == []
    # reopening schedules it again
    set_status(case["id"], "in_progress")
    assert len([e for e in events(reminder_id=rule["id"], sag_id=case["id"]) if e["status"] == "pending"]) == 1


def test_deadline_already_inside_offset_fires_now_but_past_deadline_never(app):
    clear_queue()
    soon = make_case(deadline=db_now() + timedelta(hours=2))
    past = make_case(deadline=db_now() - timedelta(hours=2))
    rule = make_rule(trigger_type="deadline", trigger_config={"offset_hours": 24}, recipients={"creator": True,
                                                                                                "roles": ["admin"]})
    assert {e["sag_id"] for e in events(reminder_id=rule["id"], status="pending")} >= {soon["id"]}
    assert not [e for e in events(reminder_id=rule["id"]) if e["sag_id"] == past["id"]]


def test_scheduled_rule_fires_once_at_its_time(app):
    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"])
    at = db_now() + timedelta(hours=5)
    rule = make_rule(sag_id=case["id"], trigger_type="scheduled", trigger_config={"at": at.isoformat()})
    assert run_worker(offset=timedelta(hours=4)) == 0
    run_worker(offset=timedelta(hours=5, seconds=5))
    run_worker(offset=timedelta(days=3))
    assert len(logs(rule_id=rule["id"])) == 1
    assert reminders_store.read_rule(rule["id"])["next_run_at"] is None


def test_global_scheduled_rule_fires_for_every_open_case(app):
    clear_queue()
    u = make_user()
    open_a, open_b = make_case(assigned_to=u["id"]), make_case(assigned_to=u["id"])
    closed = make_case(assigned_to=u["id"], status="closed")
    rule = make_rule(trigger_type="scheduled", trigger_config={"at": (db_now() + timedelta(hours=1)).isoformat()})
    run_worker(offset=timedelta(hours=1, seconds=5))
    fired = {r["sag_id"] for r in logs(rule_id=rule["id"])}
    assert {open_a["id"], open_b["id"]} <= fired and closed["id"] not in fired


def test_recurring_rule_fires_each_occurrence_once_and_stops_after_until(app):
    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"])
    now = db_now()
    until = now + timedelta(days=2, hours=12)
    rule = make_rule(sag_id=case["id"], trigger_type="recurring",
                     trigger_config={"cron": "0 8 * * *", "timezone": "Europe/Copenhagen", "until": until.isoformat()})
    first = reminders_store.read_rule(rule["id"])["next_run_at"]
    assert first.astimezone(UTC) > now
    for day in range(5):
        run_worker(offset=(first - now) + timedelta(days=day, seconds=5))
    fired = logs(rule_id=rule["id"])
    expected = len([d for d in range(5) if first + timedelta(days=d) <= until])
    assert len(fired) == expected
    assert reminders_store.read_rule(rule["id"])["next_run_at"] is None


def test_inactivity_rule_fires_once_per_quiet_period_on_open_cases(app):
    clear_queue()
    u = make_user()
    stale = make_case(assigned_to=u["id"])
    database.execute_update("UPDATE sag_sager SET description = 'x' WHERE id = %s", (stale["id"],))
    database.execute_update("ALTER TABLE sag_sager DISABLE TRIGGER sag_sager_set_updated_at")
    try:
        database.execute_update("UPDATE sag_sager SET updated_at = now() - interval '10 days' WHERE id = %s",
                                (stale["id"],))
    finally:
        database.execute_update("ALTER TABLE sag_sager ENABLE TRIGGER sag_sager_set_updated_at")
    fresh = make_case(assigned_to=u["id"])
    rule = make_rule(trigger_type="inactivity", trigger_config={"days": 3})
    run_worker()
    run_worker(offset=timedelta(hours=1))
    assert {r["sag_id"] for r in logs(rule_id=rule["id"])} & {stale["id"], fresh["id"]} == {stale["id"]}
    # the fresh case goes quiet three days later and is reminded once
    run_worker(offset=timedelta(days=3, minutes=1))
    run_worker(offset=timedelta(days=3, hours=5))
    per_case = [r["sag_id"] for r in logs(rule_id=rule["id"]) if r["sag_id"] in (stale["id"], fresh["id"])]
    assert sorted(per_case) == sorted([stale["id"], fresh["id"]])


def test_deactivating_or_deleting_a_rule_cancels_its_pending_events(app, admin_user):
    clear_queue()
    case = make_case(deadline=db_now() + timedelta(days=3))
    rule = make_rule(trigger_type="deadline", trigger_config={"offset_hours": 1}, created_by=admin_user["id"])
    assert events(reminder_id=rule["id"], status="pending")

    class Admin:
        id = admin_user["id"]
        is_admin = True

    reminders_store.update_rule(rule["id"], {"active": False}, Admin)
    assert events(reminder_id=rule["id"], status="pending") == []
    reminders_store.update_rule(rule["id"], {"active": True}, Admin)
    assert len(events(reminder_id=rule["id"], status="pending", sag_id=case["id"])) == 1
    reminders_store.delete_rule(rule["id"], Admin)
    cancelled = database.execute_query(
        "SELECT status, last_error FROM sag_reminder_queue WHERE sag_id = %s AND trigger_type = 'deadline' "
        "ORDER BY id DESC LIMIT 1", (case["id"],))
    assert cancelled[0] == {"status": "cancelled", "last_error": "rule deleted"}


def test_events_for_closed_cases_are_skipped_with_a_reason(app):
    clear_queue()
    case = make_case(deadline=db_now() + timedelta(hours=2))
    rule = make_rule(sag_id=case["id"], trigger_type="deadline", trigger_config={"offset_hours": 1})
    # bypass the cancel trigger to simulate a race: the case closes while the event is queued
    database.execute_update("ALTER TABLE sag_sager DISABLE TRIGGER sag_sager_schedule_reminders")
    try:
        set_status(case["id"], "closed")
    finally:
        database.execute_update("ALTER TABLE sag_sager ENABLE TRIGGER sag_sager_schedule_reminders")
    run_worker(offset=timedelta(hours=1, seconds=5))
    [ev] = events(reminder_id=rule["id"])
    assert (ev["status"], ev["last_error"]) == ("skipped", "case closed")


def test_demo_adds_rules_of_every_type_once(app):
    from app.modules.sag.reminders import demo as demo_reminders

    class Progress:
        def update(self, *a, **k):
            pass

        def advance(self, *a, **k):
            pass

    from app.modules.sag.sla import calendars

    make_case(assigned_to=make_user()["id"], deadline=db_now() + timedelta(days=1))
    make_case(assigned_to=make_user()["id"])
    # The sla demo rule delivers within the default calendar's opening hours (the demo makes one first).
    calendars.create_calendar(calendars.CalendarIn(name="Demo hours"))
    demo_reminders.run(Progress(), None)
    demo_reminders.run(Progress(), None)  # idempotent
    rows = database.execute_query("SELECT name, trigger_type FROM sag_reminders WHERE name LIKE 'Demo: %'")
    assert {r["trigger_type"] for r in rows} == {"status_change", "scheduled", "deadline", "recurring", "inactivity",
                                                 "sla"}
    assert len(rows) == len({r["name"] for r in rows})


def test_running_worker_wakes_on_notify_and_stops_cleanly(app):
    import threading
    import time

    from app.modules.sag.reminders.tests.reminders_helpers import worker

    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"])
    rule = make_rule(sag_id=case["id"])
    stop = threading.Event()
    w = worker()
    thread = threading.Thread(target=w.run, args=(stop,), daemon=True)
    thread.start()
    set_status(case["id"], "in_progress")
    deadline = time.monotonic() + 20
    while not logs(rule_id=rule["id"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(logs(rule_id=rule["id"])) == 1
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
