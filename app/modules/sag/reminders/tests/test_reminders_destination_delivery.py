"""Reminders to chat and webhook destinations through a real worker, to a real HTTP receiver on
127.0.0.1: one message per firing with the case details, JSON and form bodies, retries with the
e-mail back-off, the timeout of a hanging service, and in-app and e-mail never held up."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.core import database
from app.core.config import get_settings, reset_settings
from app.modules.sag.reminders import destinations
from app.modules.sag.reminders.destinations import DestinationIn
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
from app.modules.sag.reminders.tests.test_reminders_email import inbox  # noqa: F401 - the SMTP fixture
from app.modules.sag.reminders.tests.webhook_receiver import Receiver
from tests.fixtures import login, make_user

TIMEOUT_ENV = "MODULES__SAG__DESTINATION_TIMEOUT_S"


def _destination(url: str) -> dict:
    return destinations.create_destination(DestinationIn(name=f"Webhook: PSA {uuid.uuid4().hex[:6]}", url=url))


def _firing(channels: list[str], **case_fields) -> tuple[dict, dict]:
    """A case whose status change fires a rule with these channels (assignee and creator as recipients)."""
    clear_queue()
    assignee, creator = make_user(full_name="Ann Assignee"), make_user()
    case = make_case(assigned_to=assignee["id"], created_by=creator["id"], title="Printer on fire", **case_fields)
    rule = make_rule(sag_id=case["id"], channels=channels, recipients={"assignee": True, "creator": True},
                     title_template="{{ case.title }} is now {{ new_status }}", message_template="Call the customer")
    set_status(case["id"], "on_hold")
    return case, rule


@pytest.fixture
def short_timeout():
    os.environ[TIMEOUT_ENV] = "2"
    reset_settings()
    yield 2.0
    os.environ.pop(TIMEOUT_ENV, None)
    reset_settings()


def test_one_json_message_per_firing_with_title_case_status_assignee_deadline_and_link(app):
    deadline = datetime(2031, 3, 14, 9, 30, tzinfo=UTC)
    with Receiver() as rx:
        dest = _destination(f"json://127.0.0.1:{rx.port}/hooks/psa")
        case, _rule = _firing(["in_app", dest["channel"]], deadline=deadline)
        run_worker()
    [body] = rx.json_bodies()
    assert body["title"] == "Printer on fire is now on_hold"
    message = body["message"]
    assert f"Case #{case['id']}: Printer on fire" in message
    assert "Status: On hold" in message and "Assignee: Ann Assignee" in message
    assert "Deadline: 14 Mar 2031, 10:30 CET" in message and "Call the customer" in message
    assert f"Open: {get_settings().base_url.rstrip('/')}/sag/{case['id']}" in message
    [row] = logs(sag_id=case["id"], channel=dest["channel"])
    assert (row["status"], row["user_id"], row["recipient"], row["error"]) == ("sent", None, "firing", None)
    assert len(logs(sag_id=case["id"], channel="in_app")) == 2  # the recipients still get theirs


def test_form_webhook_gets_title_and_message_fields(app):
    with Receiver() as rx:
        dest = _destination(f"form://127.0.0.1:{rx.port}/form")
        case, _rule = _firing([dest["channel"]])
        run_worker()
    [form] = rx.form_bodies()
    assert rx.requests[0][2]["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert form["title"] == "Printer on fire is now on_hold" and f"Case #{case['id']}" in form["message"]
    assert logs(sag_id=case["id"], channel=dest["channel"])[0]["status"] == "sent"


def test_a_failing_destination_is_retried_with_the_email_backoff_and_email_is_not_sent_twice(app, inbox):  # noqa: F811
    with Receiver(statuses=[500, 200]) as rx:
        dest = _destination(f"json://127.0.0.1:{rx.port}/flaky")
        case, rule = _firing(["in_app", "email", dest["channel"]])
        run_worker(retry_base_s=30.0)
        [row] = logs(sag_id=case["id"], channel=dest["channel"])
        assert row["status"] == "pending" and "500" in row["error"] and f"127.0.0.1:{rx.port}" in row["error"]
        [event] = events(reminder_id=rule["id"])
        assert event["status"] == "pending" and event["attempts"] == 1 and "500" in event["last_error"]
        assert event["scheduled_for"] - event["updated_at"] == timedelta(seconds=30)  # base back-off, attempt 1
        assert len(inbox.messages) == 2 and len(logs(sag_id=case["id"], channel="in_app")) == 2
        run_worker(offset=timedelta(seconds=31), retry_base_s=30.0)
    assert len(rx.requests) == 2
    [row] = logs(sag_id=case["id"], channel=dest["channel"])
    assert (row["status"], row["error"]) == ("sent", None)
    assert events(reminder_id=rule["id"])[0]["status"] == "sent"
    assert len(inbox.messages) == 2 and len(logs(sag_id=case["id"], channel="in_app")) == 2


def test_a_destination_failing_every_attempt_ends_failed_with_its_error_on_the_queue_page(app, client):
    with Receiver(statuses=[503]) as rx:
        dest = _destination(f"json://127.0.0.1:{rx.port}/down")
        case, rule = _firing(["in_app", dest["channel"]])
        run_worker(max_attempts=1)
    [row] = logs(sag_id=case["id"], channel=dest["channel"])
    assert row["status"] == "failed" and "503" in row["error"]
    assert events(reminder_id=rule["id"])[0]["status"] == "failed"
    login(client, make_user("admin"))
    queue = client.get("/sag/reminders/queue").text
    assert dest["channel"] in queue and "error=503" in queue and dest["name"] in queue
    history = client.get(f"/sag/{case['id']}/reminders/history.json").json()
    assert [(h["channel"], h["recipient_name"], h["status"]) for h in history if h["channel"].startswith("dest:")] \
        == [(dest["channel"], dest["name"], "failed")]
    page = client.get(f"/sag/reminders/destinations/{dest['id']}").text
    assert f'data-log-id="{row["id"]}"' in page and 'data-status="failed"' in page and "error=503" in page


def test_a_hanging_destination_times_out_while_in_app_and_email_have_gone_out(app, inbox, short_timeout):  # noqa: F811
    with Receiver(hang=True) as rx:
        dest = _destination(f"json://127.0.0.1:{rx.port}/slow")
        case, rule = _firing(["in_app", "email", dest["channel"]])
        w = worker(retry_base_s=60.0)
        started = time.monotonic()
        t = threading.Thread(target=w.drain)
        t.start()
        try:
            for _ in range(200):  # until the worker's message reaches the receiver (and hangs there)
                if rx.requests:
                    break
                time.sleep(0.05)
            assert rx.requests, "the destination was never called"
            # While the destination hangs, the in-app reminders and the e-mails are already out.
            assert [r["status"] for r in logs(sag_id=case["id"], channel="in_app")] == ["sent", "sent"]
            assert [r["status"] for r in logs(sag_id=case["id"], channel="email")] == ["sent", "sent"]
            assert len(inbox.messages) == 2
            t.join(short_timeout + 15)
            elapsed = time.monotonic() - started
        finally:
            t.join()
            w.close()
    assert elapsed < short_timeout + 15
    [row] = logs(sag_id=case["id"], channel=dest["channel"])
    assert row["status"] == "pending" and row["error"].endswith(f"timed out after {short_timeout:g} s")
    [event] = events(reminder_id=rule["id"])
    assert event["status"] == "pending" and "timed out" in event["last_error"]


def test_a_rule_with_a_deleted_destination_still_reaches_in_app(app):
    dest = _destination("json://127.0.0.1:9/gone")
    case, rule = _firing(["in_app", dest["channel"]])
    database.execute_update("DELETE FROM sag_destinations WHERE id = %s", (dest["id"],))
    run_worker()
    assert len(logs(sag_id=case["id"], channel="in_app")) == 2
    assert logs(sag_id=case["id"], channel=dest["channel"]) == []
    assert events(reminder_id=rule["id"])[0]["status"] == "sent"
