"""Reminder e-mails built in bulk (reminder_messages) from pieces kept per batch: each message is
the one its row gets alone, so nothing of one recipient (tokens, name, language, zone) reaches
another's; headers stay one line each and non-ASCII ones are encoded."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email import policy
from types import SimpleNamespace

from app.core import mime, signing
from app.modules.sag.reminders import email as reminder_email

BOUNDARY = re.compile(rb"=_[0-9a-f]{32}")


def _row(**changes) -> dict:
    row = {"id": 101, "event_id": 7, "user_id": 3, "email": "ane@example.test", "user_name": "Ane Hansen",
           "title": "Printer is down", "message": "Status went from new to open.", "priority": "normal",
           "escalated": False, "sag_id": 42, "rule_id": 1, "case_title": "Printer", "description": "Floor 2",
           "status": "open", "status_label": "Open", "status_label_da": "Åben", "case_priority": "high",
           "deadline": datetime(2026, 12, 3, 12, tzinfo=UTC), "customer_name": "Acme", "assignee_name": "Bo",
           "timezone": "Europe/Copenhagen", "language": "en", "trigger_type": "status_change"}
    return row | changes


def _same_bytes(a: bytes, b: bytes) -> bool:
    return BOUNDARY.sub(b"=_B", a) == BOUNDARY.sub(b"=_B", b)


def _parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


def _text(msg: email.message.EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content()


def test_recipients_of_one_batch_get_the_message_their_row_gets_alone(app, monkeypatch):
    now = SimpleNamespace(time=lambda: 1_796_000_000.0)  # tokens and Date of the same second on both sides
    monkeypatch.setattr(signing, "time", now)
    monkeypatch.setattr(mime, "time", now)
    rows = [_row(),
            _row(id=102, user_id=4, email="soren@example.test", user_name="Søren Ø", language="da",
                 timezone="America/New_York"),
            _row(id=103, user_id=None, email="list@example.test", user_name=None, trigger_type=None),
            _row(id=104, user_id=5, email="eve@example.test", user_name="Eve", rule_id=None),
            _row(id=201, event_id=8, sag_id=43, case_title="Server", title="Server is down", user_id=4,
                 email="soren@example.test", user_name="Søren Ø", language="da")]
    batch = reminder_email.reminder_messages(rows)
    for row, msg in zip(rows, batch, strict=True):
        assert _same_bytes(msg.data, reminder_email.reminder_message(row).data)
        assert msg.to == row["email"]
        text = _text(_parse(msg.data))
        opened = re.findall(r"/sag/reminder-links/open/([\w.\-]+)", text)
        if row["user_id"] is None:  # an address list: the case's page, no tokens
            assert opened == [] and f"/sag/{row['sag_id']}" in text
            continue
        assert signing.unsign(reminder_email.LINK_PURPOSE_MAIL, opened[0]) == {"l": row["id"], "u": row["user_id"]}
        actions = re.findall(r"/sag/reminder-links/action/([\w.\-]+)/(\w+)", text)
        assert {token for token, _action in actions} == {opened[0]}  # one token behind every link
        assert [action for _token, action in actions] == (["acknowledge"] if row["rule_id"] is None
                                                         else ["acknowledge", "snooze_1h", "snooze_1d"])
    english, danish = _text(_parse(batch[0].data)), _text(_parse(batch[1].data))
    assert "Status: Open" in english and "Åben" in danish and "Åben" not in english
    assert "CET" in english and "EST" in danish  # each recipient's zone


def test_headers_are_encoded_and_cannot_be_injected(app):
    row = _row(title="Ærlig talt: printer på 2. sal er nede\r\nBcc: evil@example.test",
               user_name='Søren Ø, "on call"\nBcc: evil@example.test')
    for data in (reminder_email.reminder_messages([row])[0].data, reminder_email.reminder_message(row).data):
        assert data.isascii()  # non-ASCII only as RFC 2047 encoded words and quoted-printable
        msg = _parse(data)
        assert "Bcc" not in msg.keys()
        assert str(msg["Subject"]) == "[#42] Ærlig talt: printer på 2. sal er nede Bcc: evil@example.test"
        assert msg["To"].addresses[0].display_name == 'Søren Ø, "on call" Bcc: evil@example.test'
        assert msg["To"].addresses[0].addr_spec == "ane@example.test"
        assert msg["Message-ID"] == "<sag-reminder-101@testserver>" and msg["X-BMC-Reminder-Log"] == "101"
        assert msg["List-Unsubscribe"].startswith("<http://testserver/sag/reminder-links/unsubscribe/")
