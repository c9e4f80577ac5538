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


def _rule_and_cases(n_cases: int, **rule: object) -> tuple[dict, list[dict], dict]:
    clear_queue()
    user = make_user()
    made = make_rule(recipients={"assignee": True}, trigger_config={"from": "new", "to": "in_progress"},
                     group_window_minutes=0, **rule)
    return made, [make_case(assigned_to=user["id"]) for _ in range(n_cases)], user


def _wait_for(check, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _write_waiting() -> bool:
    """A batch's log write (whichever worker runs it) waits for a lock."""
    return database.execute_query(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query LIKE 'CALL sag_reminder_write_batch%'")[0]["n"] > 0


def _waiting_on_lock(pid: int) -> bool:
    rows = database.execute_query("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,))
    return bool(rows) and rows[0]["wait_event_type"] == "Lock"


def _drained(rule: dict) -> bool:
    return all(e["status"] != "processing" for e in events(reminder_id=rule["id"]))


def test_a_case_deleted_after_its_destinations_were_resolved_gets_no_rows(app):
    rule, cases, user = _rule_and_cases(2)
    # The user's hourly counter is held by an uncommitted insert (this hour's and the next's): the
    # batch resolves its destinations, then waits to count them; the case is deleted meanwhile.
    holder = psycopg.connect(os.environ["DATABASE_URL"])
    holder.execute("INSERT INTO sag_reminder_rate (user_id, window_start, used) "
                   "SELECT %s, date_trunc('hour', now()) + h * interval '1 hour', 0 FROM generate_series(0, 1) h",
                   (user["id"],))
    for case in cases:
        set_status(case["id"], "in_progress")
    w = worker()
    batch = threading.Thread(target=w.drain, daemon=True)
    try:
        batch.start()
        _wait_for(_write_waiting, "the batch's write to wait for the counter")
        database.execute_update("DELETE FROM sag_sager WHERE id = %s", (cases[0]["id"],))
        holder.rollback()
        batch.join(WAIT_S)
        _wait_for(lambda: _drained(rule), "the batch to finish")
    finally:
        holder.close()
        w.close()
    assert logs(sag_id=cases[0]["id"]) == []
    assert [r["sag_id"] for r in logs(rule_id=rule["id"])] == [cases[1]["id"]]
    assert all(e["status"] == "sent" for e in events(reminder_id=rule["id"]))


def test_a_case_delete_waits_for_the_batch_writing_its_rows_and_then_removes_them(app):
    rule, (case,), user = _rule_and_cases(1, repeat_every_hours=1)
    # Holds the batch's write after its log rows (and its key lock on the case): the repeat it
    # queues last has the key of this uncommitted one, so it waits to see whether that commits.
    blocker = psycopg.connect(os.environ["DATABASE_URL"])
    blocker.execute("INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, dedup_key, scheduled_for) "
                    "VALUES (%s, %s, 'repeat', %s, now() + interval '1 day')",
                    (rule["id"], case["id"], f"repeat:{rule['id']}:{case['id']}"))
    set_status(case["id"], "in_progress")
    deleter = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    w = worker()
    batch = threading.Thread(target=w.drain, daemon=True)
    delete = threading.Thread(target=deleter.execute, args=("DELETE FROM sag_sager WHERE id = %s", (case["id"],)),
                              daemon=True)
    try:
        batch.start()
        _wait_for(_write_waiting, "the batch's write to wait for the repeat's key")
        delete.start()
        _wait_for(lambda: _waiting_on_lock(deleter.info.backend_pid), "the case delete to wait for the batch")
        assert logs(sag_id=case["id"]) == []  # not committed yet
        blocker.rollback()
        batch.join(WAIT_S)
        delete.join(WAIT_S)
        assert not delete.is_alive()
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
