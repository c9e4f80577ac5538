"""Reminder e-mails over a real SMTP server (aiosmtpd on loopback): content, escaping, links, failures."""

from __future__ import annotations

import email
import os
import re
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller

from app.core import mail
from app.core.config import get_settings, reset_settings
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    events,
    logs,
    make_case,
    make_rule,
    run_worker,
    set_status,
)
from tests.fixtures import make_user


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _use_smtp(port: int | None) -> None:
    if port is None:
        os.environ.pop("SMTP_HOST", None)
        os.environ.pop("SMTP_PORT", None)
    else:
        os.environ["SMTP_HOST"] = "127.0.0.1"
        os.environ["SMTP_PORT"] = str(port)
    reset_settings()


@pytest.fixture
def inbox():
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    _use_smtp(controller.port)
    try:
        yield box
    finally:
        controller.stop()
        _use_smtp(None)


def _parts(msg) -> tuple[str, str]:
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def test_email_has_case_details_html_and_text_and_signed_action_links(app, inbox):
    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"], title="Server room too hot", priority="urgent",
                     description="The AC unit failed at 03:00.\nCustomer is waiting.")
    rule = make_rule(sag_id=case["id"], channels=["email"], title_template="Status is now {{ new_status }}",
                     message_template="Please look at {{ case.title }}")
    set_status(case["id"], "on_hold")
    run_worker()
    [msg] = inbox.messages
    assert msg["To"].addresses[0].addr_spec == u["email"]
    text, html = _parts(msg)
    for part in (text, html):
        assert "Server room too hot" in part and "Status is now on_hold" in part
        assert "urgent" in part and "The AC unit failed" in part
        assert "/sag/reminder-links/open/" in part and "/sag/reminder-links/action/" in part
        assert "/me/notifications" in part
    assert 'style="' in html and "<style" not in html  # CSS inlined
    assert re.findall(r"/sag/reminder-links/action/[\w.\-]+/(\w+)", text) == ["acknowledge", "snooze_1h", "snooze_1d"]
    [row] = logs(rule_id=rule["id"])
    assert row["status"] == "sent" and row["channel"] == "email" and row["email"] == u["email"]


def test_case_fields_are_html_escaped_in_email(app, inbox):
    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"], title='<img src=x onerror=alert(1)>',
                     description='<script>alert("x")</script>')
    make_rule(sag_id=case["id"], channels=["email"], title_template="{{ case.title }}",
              message_template="{{ case.description }}")
    set_status(case["id"], "on_hold")
    run_worker()
    [msg] = inbox.messages
    _text, html = _parts(msg)
    assert "<img src=x" not in html and "<script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;script&gt;" in html


def test_smtp_down_retries_with_backoff_then_fails_and_in_app_is_unaffected(app):
    clear_queue()
    _use_smtp(_free_port())  # nothing listens there
    try:
        u = make_user()
        case = make_case(assigned_to=u["id"])
        rule = make_rule(sag_id=case["id"], channels=["in_app", "email"])
        set_status(case["id"], "in_progress")
        from datetime import timedelta

        run_worker(max_attempts=3, retry_base_s=10)
        [ev] = events(reminder_id=rule["id"])
        assert ev["status"] == "pending" and ev["attempts"] == 1 and "SMTP" in ev["last_error"]
        in_app = logs(rule_id=rule["id"], channel="in_app")
        assert [r["status"] for r in in_app] == ["sent"]
        run_worker(offset=timedelta(seconds=11), max_attempts=3, retry_base_s=10)   # attempt 2 (after 10 s)
        assert events(reminder_id=rule["id"])[0]["attempts"] == 2
        run_worker(offset=timedelta(seconds=15), max_attempts=3, retry_base_s=10)   # backoff is 20 s now
        assert events(reminder_id=rule["id"])[0]["attempts"] == 2
        run_worker(offset=timedelta(seconds=35), max_attempts=3, retry_base_s=10)   # attempt 3: gives up
        [ev] = events(reminder_id=rule["id"])
        assert ev["status"] == "failed" and ev["attempts"] == 3
        assert [r["status"] for r in logs(rule_id=rule["id"], channel="email")] == ["failed"]
        assert len(logs(rule_id=rule["id"], channel="in_app")) == 1  # never duplicated by the retries
    finally:
        _use_smtp(None)


def test_file_backend_writes_eml_when_no_smtp_host(app):
    clear_queue()
    assert not get_settings().smtp_host
    before = set(mail.mail_dir().glob("*.eml")) if mail.mail_dir().exists() else set()
    u = make_user()
    case = make_case(assigned_to=u["id"])
    make_rule(sag_id=case["id"], channels=["email"])
    set_status(case["id"], "in_progress")
    run_worker()
    new = set(mail.mail_dir().glob("*.eml")) - before
    assert len(new) == 1
    msg = email.message_from_bytes(new.pop().read_bytes(), policy=policy.default)
    assert msg["To"].addresses[0].addr_spec == u["email"]


def test_subject_cannot_inject_headers(app):
    msg = mail.build_message(to="a@example.test", subject="Hi\r\nBcc: evil@example.test", text="x")
    assert "Bcc" not in msg.keys() and "\n" not in msg["Subject"]


def test_recipients_of_one_event_share_its_text_but_get_their_own_links(app, inbox):
    from app.core import signing
    from app.modules.sag.reminders.email import LINK_PURPOSE_MAIL

    clear_queue()
    assignee, creator = make_user(), make_user()
    case = make_case(assigned_to=assignee["id"], created_by=creator["id"], title="Shared rendering")
    rule = make_rule(sag_id=case["id"], channels=["email"], recipients={"assignee": True, "creator": True},
                     title_template="{{ case.title }} moved")
    set_status(case["id"], "on_hold")
    run_worker()
    assert len(inbox.messages) == 2
    by_user = {r["email"]: r for r in logs(rule_id=rule["id"])}
    links = {}
    for msg in inbox.messages:
        row = by_user[msg["To"].addresses[0].addr_spec]
        text, html = _parts(msg)
        assert "Shared rendering moved" in text and "Shared rendering moved" in html
        opened = re.findall(r"/sag/reminder-links/open/([\w.\-]+)", text)
        assert opened == re.findall(r"/sag/reminder-links/open/([\w.\-]+)", html)
        assert signing.unsign(LINK_PURPOSE_MAIL, opened[0]) == {"l": row["id"], "u": row["user_id"]}
        actions = re.findall(r"/sag/reminder-links/action/([\w.\-]+)/(\w+)", text)
        assert actions == [(opened[0], a) for a in ("acknowledge", "snooze_1h", "snooze_1d")]
        assert re.findall(r"/sag/reminder-links/action/([\w.\-]+)/(\w+)", html) == actions
        assert "bmclink" not in text and "bmclink" not in html  # no marker left unfilled
        links[row["user_id"]] = opened[0]
    assert len(set(links.values())) == 2
