"""Mail hygiene of reminder e-mails, on mail caught by a real SMTP server (aiosmtpd on loopback):
one-click List-Unsubscribe (RFC 8058) with a signed link that switches e-mail off for that kind,
a stable Message-ID, and In-Reply-To/References that thread a case's reminders together."""

from __future__ import annotations

import email
from email import policy
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from app.core import database, signing
from app.core.config import get_settings
from app.modules.sag.reminders.email import LINK_PURPOSE_ACTION, LINK_PURPOSE_UNSUBSCRIBE, unsubscribe_link
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    logs,
    make_case,
    make_rule,
    run_worker,
    set_status,
)
from app.modules.sag.reminders.tests.test_reminders_email import _free_port, _use_smtp
from tests.fixtures import login, make_user


class RawInbox:
    def __init__(self):
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.content)
        return "250 OK"

    @property
    def messages(self):
        return [email.message_from_bytes(b, policy=policy.default) for b in self.raw]


@pytest.fixture
def raw_inbox():
    box = RawInbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    _use_smtp(controller.port)
    try:
        yield box
    finally:
        controller.stop()
        _use_smtp(None)


def _overrides(user_id: int) -> dict:
    return database.execute_query("SELECT trigger_overrides FROM user_notification_preferences WHERE user_id = %s",
                                  (user_id,))[0]["trigger_overrides"]


def _path(url: str) -> str:
    return urlsplit(url).path


def test_reminder_emails_carry_one_click_unsubscribe_and_thread_per_case(app, raw_inbox):
    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"])
    rule = make_rule(sag_id=case["id"], channels=["email"])
    set_status(case["id"], "in_progress")
    run_worker()
    set_status(case["id"], "on_hold")
    run_worker()
    first, second = raw_inbox.messages
    host = urlsplit(get_settings().base_url).hostname
    root = f"<sag-case-{case['id']}@{host}>"
    ids = [r["id"] for r in logs(rule_id=rule["id"], channel="email")]
    for msg, log_id in zip((first, second), ids, strict=True):
        assert msg["Message-ID"] == f"<sag-reminder-{log_id}@{host}>"
        assert msg["In-Reply-To"] == root and msg["References"] == root
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = msg["List-Unsubscribe"]
        assert link.startswith(f"<{get_settings().base_url.rstrip('/')}/sag/reminder-links/unsubscribe/")
        assert link.endswith(">")
        token = link[1:-1].rsplit("/", 1)[1]
        assert signing.unsign(LINK_PURPOSE_UNSUBSCRIBE, token) == {"u": u["id"], "k": "status_change"}
    # The header goes out whole, on one line, not as RFC 2047 encoded words a mail client cannot use.
    head = raw_inbox.raw[0].split(b"\r\n\r\n")[0]
    assert b"\nList-Unsubscribe: <http" in head and b"=?utf-8?" not in head


def test_external_address_gets_threading_but_no_unsubscribe(app, raw_inbox):
    clear_queue()
    case = make_case()
    make_rule(sag_id=case["id"], channels=["email"], recipients={"emails": ["outside@example.test"]})
    set_status(case["id"], "in_progress")
    run_worker()
    [msg] = raw_inbox.messages
    assert msg["References"] == f"<sag-case-{case['id']}@{urlsplit(get_settings().base_url).hostname}>"
    assert msg["List-Unsubscribe"] is None and msg["List-Unsubscribe-Post"] is None


def test_one_click_post_without_session_switches_off_email_for_that_kind_only(app, anon_client, raw_inbox):
    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"])
    rule = make_rule(sag_id=case["id"], channels=["in_app", "email"])
    set_status(case["id"], "in_progress")
    run_worker()
    link = raw_inbox.messages[0]["List-Unsubscribe"][1:-1]
    r = anon_client.post(_path(link), data={"List-Unsubscribe": "One-Click"})  # what a mail client sends
    assert r.status_code == 200 and "Unsubscribed" in r.text
    assert _overrides(u["id"]) == {"status_change": {"email": False}}
    assert anon_client.post(_path(link), data={"List-Unsubscribe": "One-Click"}).status_code == 200  # idempotent
    assert _overrides(u["id"]) == {"status_change": {"email": False}}
    set_status(case["id"], "on_hold")
    run_worker()
    assert len(raw_inbox.raw) == 1  # no more e-mail about status changes ...
    assert [r["status"] for r in logs(rule_id=rule["id"], channel="in_app")] == ["sent", "sent"]  # ... still in-app
    assert [r["status"] for r in logs(rule_id=rule["id"], channel="email")] == ["sent", "suppressed"]


def test_unsubscribe_keeps_the_kinds_other_overrides(app, anon_client):
    u = make_user()
    database.execute_update("UPDATE user_notification_preferences SET trigger_overrides = %s WHERE user_id = %s",
                            ('{"deadline": {"in_app": false}, "status_change": {"in_app": true}}', u["id"]))
    assert anon_client.post(_path(unsubscribe_link(u["id"], "deadline"))).status_code == 200
    assert _overrides(u["id"]) == {"deadline": {"in_app": False, "email": False}, "status_change": {"in_app": True}}


def test_get_shows_a_confirmation_page_and_changes_nothing(app, anon_client):
    u = make_user()
    r = anon_client.get(_path(unsubscribe_link(u["id"], "deadline")))
    assert r.status_code == 200
    assert "Deadline reminders" in r.text and 'id="confirmUnsubscribe"' in r.text and u["email"] in r.text
    assert _overrides(u["id"]) == {}


def test_signed_in_user_uses_the_button_without_a_csrf_token(app, client):
    u = make_user()
    login(client, u)
    r = client.post(_path(unsubscribe_link(u["id"], "inactivity")), data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and _overrides(u["id"]) == {"inactivity": {"email": False}}


def test_tampered_or_foreign_unsubscribe_links_are_refused(app, anon_client):
    u = make_user()
    path = _path(unsubscribe_link(u["id"], "status_change"))
    tampered = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    for method in (anon_client.get, anon_client.post):
        assert method(tampered).status_code == 400
    action_token = signing.sign(LINK_PURPOSE_ACTION, {"u": u["id"], "k": "status_change"})
    assert anon_client.post(f"/sag/reminder-links/unsubscribe/{action_token}").status_code == 400
    other_payload = signing.sign(LINK_PURPOSE_UNSUBSCRIBE, {"u": "1", "k": 2})
    assert anon_client.post(f"/sag/reminder-links/unsubscribe/{other_payload}").status_code == 400
    gone = signing.sign(LINK_PURPOSE_UNSUBSCRIBE, {"u": 2_000_000_000, "k": "status_change"})
    assert anon_client.post(f"/sag/reminder-links/unsubscribe/{gone}").status_code == 404
    old = signing.sign(LINK_PURPOSE_UNSUBSCRIBE, {"u": u["id"], "k": "status_change"}, issued_at=0)
    assert anon_client.post(f"/sag/reminder-links/unsubscribe/{old}").status_code == 410
    assert _overrides(u["id"]) == {}
