"""Reply by e-mail: Reply-To addresses on notification e-mails, and the `mail-in` listener on loopback
(real SMTP with smtplib) that adds the reply as a note, or refuses it with a clear 5xx."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from app.core import database
from app.core.config import reset_settings
from app.modules.sag.conversation import mail_in, reply_tokens
from app.modules.sag.conversation.tests.mentions_helpers import (
    add_note,
    drain,
    free_port,
    notifications,
    outbox,  # noqa: F401 - fixture
)
from app.modules.sag.reminders.tests.reminders_helpers import clear_queue, make_case, make_rule, set_status
from tests.fixtures import make_user

DOMAIN = "replies.example.test"
SMALL_LIMIT = 4096  # bytes, for the oversize case
START_TIMEOUT_S = 60


@pytest.fixture
def reply_domain():
    os.environ["MAIL_REPLY_DOMAIN"] = DOMAIN
    os.environ["MAIL_IN_MAX_BYTES"] = str(SMALL_LIMIT)
    reset_settings()
    yield DOMAIN
    os.environ.pop("MAIL_REPLY_DOMAIN", None)
    os.environ.pop("MAIL_IN_MAX_BYTES", None)
    reset_settings()


@pytest.fixture
def listener(app, reply_domain):
    ctl = mail_in.controller("127.0.0.1", free_port())
    ctl.start()
    yield ctl
    ctl.stop()


def _message(sender: str, to: str, body: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, "Re: [#1] A reminder"
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def _send(port: int, msg: EmailMessage, mail_from: str | None = None) -> tuple[int, str]:
    """Send over SMTP step by step; the code and text of the first refusal, else of the DATA reply."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo()
        for code, text in (smtp.mail(mail_from if mail_from is not None else msg["From"]), smtp.rcpt(msg["To"])):
            if code >= 400:
                return code, text.decode()
        # smtplib sends bytes as they are: the lines must end in CRLF already.
        code, text = smtp.data(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
        return code, text.decode()


def _notes(case_id: int) -> list[dict]:
    return database.execute_query("SELECT * FROM sag_notes WHERE sag_id = %s ORDER BY id", (case_id,))


REPLY = """Done, the printer works again.
@{mention} can you order toner?

On Tue, 1 Dec 2026 at 10:00, BMC Hub <hub@localhost> wrote:
> [#1] Printer jams
> Open the case: http://127.0.0.1:8000/sag/1
"""


def test_notification_emails_carry_a_reply_to_bound_to_case_and_recipient(app, outbox, reply_domain):  # noqa: F811 - the outbox fixture
    clear_queue()
    author, anna = make_user(), make_user()
    case = make_case(assigned_to=anna["id"])
    make_rule(sag_id=case["id"], channels=["in_app", "email"])
    set_status(case["id"], "in_progress")
    add_note(case["id"], author, f"@{anna['username']} look")
    drain()
    assert len(outbox.messages) == 2  # the rule's reminder and the mention
    for msg in outbox.messages:
        address = msg["Reply-To"]
        assert address.startswith("reply+") and address.endswith(f"@{DOMAIN}") and len(address.split("@")[0]) < 64
        assert reply_tokens.parse_address(address) == reply_tokens.ReplyTarget(case["id"], anna["id"])
        assert "Reply to this e-mail to add a note" in msg.get_body(preferencelist=("plain",)).get_content()
    mention = next(m for m in outbox.messages if "mentioned you" in m["Subject"])
    assert "Snooze" not in mention.get_body(preferencelist=("plain",)).get_content()


def test_no_reply_to_without_a_reply_domain(app, outbox):  # noqa: F811 - the outbox fixture
    clear_queue()
    author, anna = make_user(), make_user()
    case = make_case()
    add_note(case["id"], author, f"@{anna['username']} look")
    drain()
    [msg] = outbox.messages
    assert msg["Reply-To"] is None


def test_a_reply_becomes_a_note_by_that_user_without_the_quote_and_its_mentions_notify(app, listener):
    clear_queue()
    anna, bo = make_user(), make_user()
    case = make_case()
    address = reply_tokens.reply_address(case["id"], anna["id"])
    code, text = _send(listener.port, _message(anna["email"].upper(), address, REPLY.format(mention=bo["username"])))
    assert code == 250 and f"case #{case['id']}" in text
    [note] = _notes(case["id"])
    assert note["author_id"] == anna["id"] and note["via"] == "email"
    assert note["body"] == f"Done, the printer works again.\n@{bo['username']} can you order toner?"
    drain()
    assert [r["user_id"] for r in notifications("mention", case["id"], channel="in_app")] == [bo["id"]]


def test_attachments_are_dropped_and_the_note_says_how_many(app, listener):
    anna = make_user()
    case = make_case()
    msg = _message(anna["email"], reply_tokens.reply_address(case["id"], anna["id"]), "See the photos")
    msg.add_attachment(b"\x89PNG one", maintype="image", subtype="png", filename="one.png")
    msg.add_attachment(b"%PDF two", maintype="application", subtype="pdf", filename="two.pdf")
    assert _send(listener.port, msg)[0] == 250
    [note] = _notes(case["id"])
    assert note["body"].startswith("See the photos\n\n[2 attachments not stored")


def test_a_tampered_token_is_refused_with_550(app, listener):
    anna = make_user()
    case = make_case()
    address = reply_tokens.reply_address(case["id"], anna["id"])
    local, domain = address.split("@")
    tampered = local[:-3] + ("aaa" if not local.endswith("aaa") else "bbb") + "@" + domain
    code, text = _send(listener.port, _message(anna["email"], tampered, "hello"))
    assert code == 550 and "not valid" in text
    code, text = _send(listener.port, _message(anna["email"], f"someone@{DOMAIN}", "hello"))
    assert code == 550 and "No such reply address" in text
    assert _notes(case["id"]) == []


def test_an_expired_token_is_refused_with_550(app, listener):
    anna = make_user()
    case = make_case()
    old = reply_tokens.reply_address(case["id"], anna["id"], issued_at=time.time() - 8 * 24 * 3600)
    code, text = _send(listener.port, _message(anna["email"], old, "hello"))
    assert code == 550 and "expired" in text
    assert _notes(case["id"]) == []


def test_a_sender_who_is_not_the_tokens_user_is_refused(app, listener):
    anna, mallory = make_user(), make_user()
    case = make_case()
    code, text = _send(listener.port, _message(mallory["email"], reply_tokens.reply_address(case["id"], anna["id"]),
                                               "I am Anna"))
    assert code == 550 and "not the user this reply address was sent to" in text
    assert _notes(case["id"]) == []


@pytest.mark.parametrize("headers", [{"Auto_Submitted": "auto-replied"}, {"Precedence": "bulk"},
                                     {"Precedence": "list"}, {"Precedence": "junk"}])
def test_auto_replies_are_refused(app, listener, headers):
    anna = make_user()
    case = make_case()
    msg = _message(anna["email"], reply_tokens.reply_address(case["id"], anna["id"]), "I am out of office", **headers)
    code, text = _send(listener.port, msg)
    assert code == 550 and ("Auto-replies" in text or "Bulk and list mail" in text)
    assert _notes(case["id"]) == []


def test_auto_submitted_no_is_a_person_and_is_accepted(app, listener):
    anna = make_user()
    case = make_case()
    msg = _message(anna["email"], reply_tokens.reply_address(case["id"], anna["id"]), "Typed by me",
                   Auto_Submitted="no")
    assert _send(listener.port, msg)[0] == 250


def test_a_bounce_with_an_empty_sender_is_refused(app, listener):
    anna = make_user()
    case = make_case()
    msg = _message(anna["email"], reply_tokens.reply_address(case["id"], anna["id"]), "Delivery failed")
    code, text = _send(listener.port, msg, mail_from="")
    assert code == 550 and "Bounces" in text


def test_oversize_mail_is_refused_with_552(app, listener):
    anna = make_user()
    case = make_case()
    msg = _message(anna["email"], reply_tokens.reply_address(case["id"], anna["id"]),
                   ("x" * 70 + "\n") * (SMALL_LIMIT // 30))
    code, _text = _send(listener.port, msg)
    assert code == 552
    assert _notes(case["id"]) == []


def test_a_reply_with_only_the_quote_is_refused(app, listener):
    anna = make_user()
    case = make_case()
    msg = _message(anna["email"], reply_tokens.reply_address(case["id"], anna["id"]),
                   "On Tue, 1 Dec 2026, Hub wrote:\n> quoted only\n")
    code, text = _send(listener.port, msg)
    assert code == 550 and "no text of its own" in text


def test_a_deactivated_user_cannot_reply(app, listener):
    anna = make_user()
    case = make_case()
    address = reply_tokens.reply_address(case["id"], anna["id"])
    database.execute_update("UPDATE users SET active = FALSE WHERE id = %s", (anna["id"],))
    code, text = _send(listener.port, _message(anna["email"], address, "hello"))
    assert code == 550 and "can no longer write notes" in text


def test_the_mail_in_command_accepts_a_reply_and_stops_on_sigterm(app, reply_domain, tmp_path):
    anna = make_user()
    case = make_case()
    port = free_port()
    bmc_hub = Path(sys.executable).parent / "bmc-hub"
    proc = subprocess.Popen([str(bmc_hub), "mail-in", "--port", str(port)], cwd=tmp_path, env=dict(os.environ),
                            stdout=open(tmp_path / "mail-in.out", "wb"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5):
                    break
            except OSError:
                assert proc.poll() is None, (tmp_path / "mail-in.out").read_text()
                assert time.monotonic() < deadline, "mail-in did not start listening"
                time.sleep(0.2)
        msg = _message(anna["email"], reply_tokens.reply_address(case["id"], anna["id"]), "Via the command")
        assert _send(port, msg)[0] == 250
        assert [n["body"] for n in _notes(case["id"])] == ["Via the command"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_listener_speaks_lmtp_too(app, reply_domain):
    anna = make_user()
    case = make_case()
    ctl = mail_in.controller("127.0.0.1", free_port(), lmtp=True)
    ctl.start()
    try:
        msg = _message(anna["email"], reply_tokens.reply_address(case["id"], anna["id"]), "Over LMTP")
        with smtplib.LMTP("127.0.0.1", ctl.port, timeout=30) as lmtp:
            assert lmtp.send_message(msg) == {}
    finally:
        ctl.stop()
    assert [n["body"] for n in _notes(case["id"])] == ["Over LMTP"]
