"""Small batches (an idle worker's single event) run on generic plans, large ones on the plans
PostgreSQL chooses; both write the same rows (reminders/plans.py)."""

from __future__ import annotations

from app.core import database
from app.modules.sag.reminders import plans
from app.modules.sag.reminders.events import Q
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    logs,
    make_case,
    make_rule,
    set_status,
    worker,
)
from tests.fixtures import make_user


def _plan_mode(w) -> str:
    with w.conn.transaction():
        return w.conn.execute("SELECT current_setting('plan_cache_mode') AS m").fetchone()["m"]


def test_plan_mode_follows_the_batch_size_and_every_batch_writes_its_rows(app):
    clear_queue()
    u = make_user()
    rule = make_rule(trigger_config={"from": "new", "to": "in_progress"})
    one, *many, last = [make_case(assigned_to=u["id"]) for _ in range(plans.SMALL_BATCH + 3)]
    # No watched-case news (due 5 s after a change): on a slow machine it would join a batch.
    database.execute_update("UPDATE sag_watchers SET unwatched = TRUE WHERE user_id = %s", (u["id"],))
    w = worker()
    try:
        set_status(one["id"], "in_progress")
        assert w.run_once().claimed == 1
        assert _plan_mode(w) == plans.GENERIC

        for case in many:
            set_status(case["id"], "in_progress")
        assert w.run_once().claimed == plans.SMALL_BATCH + 1
        assert _plan_mode(w) == plans.CHOSEN

        set_status(last["id"], "in_progress")
        assert w.run_once().claimed == 1
        assert _plan_mode(w) == plans.GENERIC
    finally:
        w.close()
    rows = [r for r in logs(rule_id=rule["id"]) if r["sag_id"] is not None]  # not the storm's group row
    assert sorted(r["sag_id"] for r in rows) == sorted(c["id"] for c in [one, *many, last])
    assert {(r["user_id"], r["channel"], r["status"]) for r in rows} == {(u["id"], "in_app", "sent")}


def test_pending_rows_are_looked_up_by_event_whatever_the_statistics_say(app):
    # In production the log is nearly all sent rows, so its statistics say almost no row is
    # pending; joined with a batch's ids, the planner then expected one row and scanned the whole
    # log for every id. The rows must be found through the delivery key, one event at a time.
    clear_queue()
    u = make_user()
    rule = make_rule(trigger_config={"from": "new", "to": "in_progress"})
    case = make_case(assigned_to=u["id"])
    event_id = database.execute_insert(
        "INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, status) "
        "VALUES (%s, %s, 'rule', 'status_change', 'sent')", (rule["id"], case["id"]))
    database.execute_update(
        "INSERT INTO sag_reminder_logs (event_id, rule_id, sag_id, email, recipient, channel, status, title) "
        "SELECT %s, %s, %s, 'x' || n || '@example.com', 'e:x' || n || '@example.com', 'email', 'sent', 'Sent' "
        "FROM generate_series(1, 20000) AS n", (event_id, rule["id"], case["id"]))
    database.execute_update("ANALYZE sag_reminder_logs")
    ids = "{" + ",".join(str(event_id + n) for n in range(500)) + "}"
    for name in ("read_pending_rows", "read_pending_log_rows"):
        with database.connect() as conn:
            plan = "\n".join(r["QUERY PLAN"] for r in conn.execute(
                "EXPLAIN " + Q[name], {"event_ids": ids, "channel": "email"}).fetchall())
        assert "Seq Scan on sag_reminder_logs" not in plan, plan
        assert "sag_reminder_logs_delivery_key" in plan, plan
