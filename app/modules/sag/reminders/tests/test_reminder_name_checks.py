"""The database keeps a log row's channel and a queued event's kind well-formed, whoever writes
them: a registered name (lower case, digits and `_`, up to 20 characters, starting with a letter)
or, for a log row, a destination `dest:<slug>` (slug up to 40 characters)."""

from __future__ import annotations

import psycopg
import pytest

from app.core import database
from app.modules.sag.reminders.tests.reminders_helpers import clear_queue, make_case, make_rule
from tests.fixtures import make_user

GOOD_CHANNELS = ["in_app", "email", "sms", "a", "teams_v2", "c" * 20, "dest:ops", "dest:" + "a-1" * 13 + "x",
                 "dest:" + "d" * 40]
BAD_CHANNELS = ["", "In_app", "1sms", "_sms", "sms-x", "c" * 21, "dest:", "dest:Ops", "dest:ops_x",
                "dest:" + "d" * 41, "dest:ops\n", "in_app ", "email;"]
GOOD_KINDS = ["rule", "repeat", "tick", "held_back", "k", "k" * 20]
BAD_KINDS = ["", "Rule", "9rule", "_rule", "rule-x", "rule ", "dest:ops"]


def _insert_log(channel: str) -> None:
    user = make_user()
    case = make_case(assigned_to=user["id"])
    rule = make_rule(recipients={"assignee": True})
    clear_queue()
    event_id = database.execute_insert(
        "INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type) VALUES (%s, %s, 'rule', 'manual')",
        (rule["id"], case["id"]))
    database.execute_update(
        "INSERT INTO sag_reminder_logs (event_id, rule_id, sag_id, user_id, recipient, channel, status, title) "
        "VALUES (%s, %s, %s, %s, %s, %s, 'sent', 'Check')",
        (event_id, rule["id"], case["id"], user["id"], f"u:{user['id']}", channel))


@pytest.mark.parametrize("channel", GOOD_CHANNELS)
def test_a_log_row_takes_a_well_formed_channel(app, channel):
    _insert_log(channel)
    assert database.execute_query("SELECT 1 FROM sag_reminder_logs WHERE channel = %s", (channel,))


@pytest.mark.parametrize("channel", BAD_CHANNELS)
def test_a_log_row_refuses_a_malformed_channel(app, channel):
    # Past 45 characters the column's type refuses it before the check does.
    refusal = ((psycopg.errors.CheckViolation, "sag_reminder_logs_channel_check") if len(channel) <= 45
               else (psycopg.errors.StringDataRightTruncation, "too long"))
    with pytest.raises(refusal[0], match=refusal[1]):
        _insert_log(channel)
    assert not database.execute_query("SELECT 1 FROM sag_reminder_logs WHERE channel = %s", (channel,))


def test_a_log_row_cannot_be_changed_to_a_malformed_channel(app):
    _insert_log("email")
    with pytest.raises(psycopg.errors.CheckViolation, match="sag_reminder_logs_channel_check"):
        database.execute_update("UPDATE sag_reminder_logs SET channel = 'E-mail' WHERE channel = 'email'")


@pytest.mark.parametrize("kind", GOOD_KINDS)
def test_a_queued_event_takes_a_well_formed_kind(app, kind):
    clear_queue()
    database.execute_update("INSERT INTO sag_reminder_queue (kind, status) VALUES (%s, 'cancelled')", (kind,))
    assert database.execute_query("SELECT 1 FROM sag_reminder_queue WHERE kind = %s", (kind,))


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_a_queued_event_refuses_a_malformed_kind(app, kind):
    clear_queue()
    with pytest.raises(psycopg.errors.CheckViolation, match="sag_reminder_queue_kind_check"):
        database.execute_update("INSERT INTO sag_reminder_queue (kind, status) VALUES (%s, 'cancelled')", (kind,))
