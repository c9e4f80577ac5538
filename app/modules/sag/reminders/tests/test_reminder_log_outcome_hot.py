"""An e-mail row's outcome (pending -> sent) is a HOT update (migration 018): no index of the
log names a column the outcome changes, and the generated columns the partial indexes use keep
the meaning of the old predicates for every status."""

from __future__ import annotations

from app.core import database
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    logs,
    make_case,
    make_rule,
    run_worker,
    set_status,
)
from tests.fixtures import make_user

# What record_results writes on the happy path.
OUTCOME_COLUMNS = {"status", "sent_at", "error", "updated_at"}


def test_no_index_of_the_log_names_a_column_the_outcome_changes(app):
    named = database.execute_query(
        """SELECT i.indexrelid::regclass::text AS index, a.attname AS column
           FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum > 0
           WHERE i.indrelid = 'sag_reminder_logs'::regclass
             AND (a.attnum = ANY (i.indkey)
                  OR pg_get_expr(i.indpred, i.indrelid) ~ ('\\m' || a.attname || '\\M')
                  OR pg_get_expr(i.indexprs, i.indrelid) ~ ('\\m' || a.attname || '\\M'))""")
    assert named and not [r for r in named if r["column"] in OUTCOME_COLUMNS]


def test_the_generated_flags_follow_status_channel_and_reading(app):
    clear_queue()
    user = make_user()
    make_rule(recipients={"assignee": True}, channels=["in_app", "email"],
              trigger_config={"from": "new", "to": "in_progress"}, group_window_minutes=0)
    case = make_case(assigned_to=user["id"])
    set_status(case["id"], "in_progress")
    run_worker()
    rows = {r["channel"]: r for r in logs(sag_id=case["id"])}
    assert rows["email"]["status"] == "sent" and not rows["email"]["is_unread"]
    assert rows["in_app"]["status"] == "sent" and rows["in_app"]["is_unread"]
    row_id = rows["in_app"]["id"]
    for status, flags in (("deferred", (False, True, False)), ("rate_limited", (False, False, True)),
                          ("sent", (True, False, False))):
        database.execute_update("UPDATE sag_reminder_logs SET status = %s WHERE id = %s", (status, row_id))
        got = database.execute_query("SELECT is_unread, is_deferred, is_held_back FROM sag_reminder_logs "
                                     "WHERE id = %s", (row_id,))[0]
        assert tuple(got.values()) == flags, status
    database.execute_update("UPDATE sag_reminder_logs SET seen_at = now() WHERE id = %s", (row_id,))
    seen = database.execute_query("SELECT is_unread FROM sag_reminder_logs WHERE id = %s", (row_id,))[0]
    assert not seen["is_unread"]
