"""The log rows' references (event, rule, case, user) hold without per-row foreign-key checks
(migration 015): a deleted parent takes its rows along (a rule leaves them without it), a batch
writes no row for a case deleted while it ran, and a case delete waits for a batch writing its
rows and then removes them."""

from __future__ import annotations

import os
import threading
import time

import psycopg

from app.core import database
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    events,
    logs,
    make_case,
    make_rule,
    run_worker,
    set_status,
    worker,
)
from tests.fixtures import make_user

WAIT_S = 30


def _fire(n_cases: int = 1, also: list[int] | None = None) -> tuple[dict, list[dict], dict]:
    """A status-change rule for the cases' assignee (and the users `also`), fired for n new cases."""
    clear_queue()
    user = make_user()
    rule = make_rule(recipients={"assignee": True, "users": also or []},
                     trigger_config={"from": "new", "to": "in_progress"}, group_window_minutes=0)
    cases = [make_case(assigned_to=user["id"]) for _ in range(n_cases)]
    for case in cases:
        set_status(case["id"], "in_progress")
    return rule, cases, user


def test_deleting_a_case_user_or_event_deletes_its_log_rows_and_a_rule_leaves_them_without_it(app):
    other = make_user()
    rule, cases, user = _fire(3, also=[other["id"]])
    run_worker()
    assert len(logs(rule_id=rule["id"])) == 6
    database.execute_update("DELETE FROM sag_sager WHERE id = %s", (cases[0]["id"],))
    assert logs(sag_id=cases[0]["id"]) == []
    event = logs(sag_id=cases[1]["id"])[0]["event_id"]
    database.execute_update("DELETE FROM sag_reminder_queue WHERE id = %s", (event,))
    assert logs(event_id=event) == []
    database.execute_update("DELETE FROM sag_reminders WHERE id = %s", (rule["id"],))
    left = logs(sag_id=cases[2]["id"])
    assert len(left) == 2 and all(r["rule_id"] is None for r in left)
    database.execute_update("DELETE FROM users WHERE id = %s", (other["id"],))
    assert logs(user_id=other["id"]) == []
    assert [r["user_id"] for r in logs(sag_id=cases[2]["id"])] == [user["id"]]


def test_a_case_deleted_after_its_destinations_were_resolved_gets_no_rows(app):
    rule, cases, user = _fire(2)
    # The case is locked by a transaction that will delete it: the batch resolves its destinations,
    # reserves, then waits for the case's key lock in the write, and finds the case gone.
    deleter = psycopg.connect(os.environ["DATABASE_URL"])
    deleter.execute("SELECT id FROM sag_sager WHERE id = %s FOR UPDATE", (cases[0]["id"],))
    w = worker()
    w._connect()
    pid = w.conn.info.backend_pid
    drained = threading.Thread(target=w.drain, daemon=True)
    drained.start()
    try:
        _wait_until_blocked(pid, "the batch's write")
        assert events(reminder_id=rule["id"])[0]["event_data"].get("granted") is not None  # reserved already
        deleter.execute("DELETE FROM sag_sager WHERE id = %s", (cases[0]["id"],))
        deleter.commit()
        drained.join(WAIT_S)
    finally:
        deleter.close()
        w.close()
    assert logs(sag_id=cases[0]["id"]) == []
    assert [r["sag_id"] for r in logs(rule_id=rule["id"])] == [cases[1]["id"]]
    assert all(e["status"] == "sent" for e in events(reminder_id=rule["id"]))


def _waiting_on_lock(pid: int) -> bool:
    rows = database.execute_query("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,))
    return bool(rows) and rows[0]["wait_event_type"] == "Lock"


def _wait_until_blocked(pid: int, who: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not _waiting_on_lock(pid):
        assert time.monotonic() < deadline, f"{who} did not wait"
        time.sleep(0.01)


def test_a_case_delete_waits_for_the_batch_writing_its_rows_and_then_removes_them(app):
    clear_queue()
    user = make_user()
    rule = make_rule(recipients={"assignee": True}, trigger_config={"from": "new", "to": "in_progress"},
                     group_window_minutes=0, repeat_every_hours=1)
    case = make_case(assigned_to=user["id"])
    set_status(case["id"], "in_progress")
    # Holds the batch's write after its log rows (and its key lock on the case): the repeat it
    # queues last has the key of this uncommitted one, so it waits to see whether that commits.
    blocker = psycopg.connect(os.environ["DATABASE_URL"])
    blocker.execute("INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, dedup_key, scheduled_for) "
                    "VALUES (%s, %s, 'repeat', %s, now() + interval '1 day')",
                    (rule["id"], case["id"], f"repeat:{rule['id']}:{case['id']}"))
    deleter = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    w = worker()
    w._connect()
    batch = threading.Thread(target=w.drain, daemon=True)
    delete = threading.Thread(target=deleter.execute, args=("DELETE FROM sag_sager WHERE id = %s", (case["id"],)),
                              daemon=True)
    try:
        batch.start()
        _wait_until_blocked(w.conn.info.backend_pid, "the batch's write")
        delete.start()
        _wait_until_blocked(deleter.info.backend_pid, "the case delete")
        assert logs(sag_id=case["id"]) == []  # not committed yet
        blocker.rollback()
        batch.join(WAIT_S)
        delete.join(WAIT_S)
        assert not batch.is_alive() and not delete.is_alive()
    finally:
        blocker.close()
        deleter.close()
        w.close()
    assert logs(sag_id=case["id"]) == [] and logs(rule_id=rule["id"]) == []


def test_any_writer_naming_a_missing_event_case_user_or_rule_is_refused_whole(app):
    rule, cases, user = _fire(1)
    run_worker()
    row = logs(rule_id=rule["id"])[0]
    insert = ("INSERT INTO sag_reminder_logs (event_id, rule_id, sag_id, user_id, recipient, channel, status, title) "
              "VALUES (%s, %s, %s, %s, %s, 'in_app', 'sent', 'Written by hand'), "
              "(%s, %s, %s, %s, %s, 'in_app', 'sent', 'Written by hand')")
    good = (row["event_id"], rule["id"], cases[0]["id"], user["id"])
    for column, missing in enumerate(("event_id", "rule_id", "sag_id", "user_id")):
        values = list(good)
        values[column] = 2**31 - 1
        with database.connect() as conn, conn.cursor() as cur:
            try:
                # Two rows in one statement, the first fine: the statement is refused whole.
                cur.execute(insert, (*good, f"fine-{missing}", *values, f"bad-{missing}"))
                conn.commit()
                raise AssertionError(f"a log row naming a missing {missing} was written")
            except psycopg.errors.ForeignKeyViolation as exc:
                assert f"{missing} = {2**31 - 1} does not exist" in str(exc)
                conn.rollback()
    assert [r["title"] for r in logs(rule_id=rule["id"]) if r["title"] == "Written by hand"] == []
