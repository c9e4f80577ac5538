"""Small batches (an idle worker's single event) run on generic plans, large ones on the plans
PostgreSQL chooses; both write the same rows (reminders/plans.py)."""

from __future__ import annotations

from app.core import database
from app.modules.sag.reminders import plans
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
