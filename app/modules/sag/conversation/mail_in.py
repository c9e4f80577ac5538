"""`bmc-hub mail-in`: an SMTP (or LMTP) listener that turns replies to notification e-mails into notes.

A mail server hands the hub the mail for `reply+<token>@MAIL_REPLY_DOMAIN` (reply_tokens.py). The
listener accepts a message only when every check passes, else it answers with a 5xx and the
reason (so the sender's server bounces it back with that text):

- RCPT: the address is a reply address of this hub with a valid, unexpired token for an active
  user (550 otherwise); one reply address per message;
- DATA: not an auto-reply (`Auto-Submitted` other than "no", `Precedence: bulk/junk/list`, or an
  empty envelope sender), the From: address is the token's user's, the size is at most
  MAIL_IN_MAX_BYTES (552), and some text is left once the quote and signature are cut
  (reply_text.py).

The text becomes a note by that user on that case (`notes.add_note(..., via="email")`), so its
@mentions notify like any note's. Attachments are not stored: the note says how many were dropped.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from app.core import database
from app.core.config import get_settings
from app.core.errors import HubError
from app.core.i18n import ngettext
from app.core.queries import load_queries
from app.modules.sag.conversation import notes
from app.modules.sag.conversation.reply_text import strip_reply
from app.modules.sag.conversation.reply_tokens import ReplyRefused, ReplyTarget, parse_address

Q = load_queries(Path(__file__).parent / "queries" / "mail_in.sql")
log = logging.getLogger("app.modules.sag")
AUTO_PRECEDENCE = ("bulk", "junk", "list")
SERVER_NAME = "BMC Hub mail-in"


class _HtmlText(HTMLParser):
    """The text of an HTML-only reply (line breaks at block ends)."""

    BREAKS = {"br", "p", "div", "li", "tr", "blockquote"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    return "".join(parser.parts)


def check_auto_reply(msg: EmailMessage, mail_from: str) -> None:
    """Refuse vacation replies, bounces and list mail: they would fill the case with noise."""
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        raise ReplyRefused(550, f"5.7.1 Auto-replies are not added to cases (Auto-Submitted: {auto[:40]})")
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if precedence in AUTO_PRECEDENCE:
        raise ReplyRefused(550, f"5.7.1 Bulk and list mail is not added to cases (Precedence: {precedence})")
    if not mail_from or mail_from == "<>":
        raise ReplyRefused(550, "5.7.1 Bounces (an empty sender) are not added to cases")


def body_and_attachments(msg: EmailMessage) -> tuple[str, int]:
    """The reply's text (plain preferred, else HTML as text) and how many attachments it carried."""
    part = msg.get_body(preferencelist=("plain", "html"))
    text = ""
    if part is not None:
        text = part.get_content()
        if part.get_content_type() == "text/html":
            text = _html_text(text)
    dropped = sum(1 for p in msg.walk() if p is not part and not p.is_multipart()
                  and (p.get_content_disposition() == "attachment" or p.get_filename()
                       or p.get_content_maintype() not in ("text",)))
    return text, dropped


def note_text(msg: EmailMessage) -> str:
    """What the note says: the reply without quote and signature, plus a line on dropped attachments."""
    raw, dropped = body_and_attachments(msg)
    text = strip_reply(raw)
    if not text:
        raise ReplyRefused(550, "5.6.0 The reply has no text of its own above the quoted message")
    if dropped:
        # Part of the note everyone reads: in the hub's language (no reader's language applies here).
        text += "\n\n[" + ngettext("%(num)s attachment not stored: attachments sent by e-mail are not kept",
                                    "%(num)s attachments not stored: attachments sent by e-mail are not kept",
                                    dropped) + "]"
    if len(text) > notes.BODY_MAX:
        raise ReplyRefused(552, f"5.3.4 The reply is longer than a note may be ({notes.BODY_MAX} characters)")
    return text


def _sender_matches(msg: EmailMessage, email: str) -> bool:
    senders = [addr.lower() for _name, addr in getaddresses([str(v) for v in msg.get_all("From", [])]) if addr]
    return len(senders) == 1 and senders[0] == (email or "").lower()


def target_user(target: ReplyTarget) -> dict[str, Any]:
    rows = database.execute_query(Q["read_reply_user"], {"user_id": target.user_id})
    if not rows or not rows[0]["active"]:
        raise ReplyRefused(550, "5.7.1 This reply address belongs to a user who can no longer write notes")
    return rows[0]


def add_reply(target: ReplyTarget, content: bytes, mail_from: str) -> dict[str, Any]:
    """Check one received message and add it as a note; returns the note; raises ReplyRefused."""
    msg = BytesParser(policy=policy.default).parsebytes(content)
    check_auto_reply(msg, mail_from)
    user = target_user(target)
    if not _sender_matches(msg, user["email"]):
        raise ReplyRefused(550, "5.7.1 The sender is not the user this reply address was sent to")
    text = note_text(msg)
    try:
        with database.acting_user(user["id"]), database.transaction() as conn:
            return notes.add_note(conn, target.sag_id, user["id"], text, via="email")
    except HubError as exc:  # the case is gone, the user may not write ...
        raise ReplyRefused(550, f"5.7.1 The reply could not be added: {exc}") from None


class ReplyHandler:
    """aiosmtpd handler: RCPT checks the address, DATA checks the message and adds the note."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if envelope.rcpt_tos:
            return "452 4.5.3 One reply address per message"
        try:
            target = parse_address(address)
            await asyncio.get_running_loop().run_in_executor(None, target_user, target)
        except ReplyRefused as exc:
            return f"{exc.code} {exc.text}"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        if len(content) > self.max_bytes:
            return f"552 5.3.4 The message is larger than the hub accepts ({self.max_bytes} bytes)"
        try:
            target = parse_address(envelope.rcpt_tos[0])
            note = await asyncio.get_running_loop().run_in_executor(
                None, add_reply, target, content, envelope.mail_from or "")
        except ReplyRefused as exc:
            log.info("mail-in refused a reply: %s %s", exc.code, exc.text)
            return f"{exc.code} {exc.text}"
        except Exception:  # noqa: BLE001 - the sender's server retries a 451 later
            log.exception("mail-in could not add a reply")
            return "451 4.3.0 The hub could not store the reply now; try again later"
        log.info("mail-in added note %s to case %s", note["id"], target.sag_id)
        return f"250 2.0.0 Added as a note to case #{target.sag_id}"


class _LmtpController(Controller):
    """The same listener speaking LMTP (LHLO), for mail servers that deliver that way."""

    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


def controller(host: str | None = None, port: int | None = None, *, lmtp: bool = False) -> Controller:
    """A listener (not started) with the settings' address, port and size limit."""
    settings = get_settings()
    kind = _LmtpController if lmtp else Controller
    return kind(ReplyHandler(settings.mail_in_max_bytes), hostname=host or settings.mail_in_host,
                port=port or settings.mail_in_port, data_size_limit=settings.mail_in_max_bytes, ident=SERVER_NAME)


def run(host: str | None = None, port: int | None = None, *, lmtp: bool = False,
        started: threading.Event | None = None) -> None:
    """Listen until SIGTERM or Ctrl-C, then stop cleanly (the current message is finished first)."""
    listener = controller(host, port, lmtp=lmtp)
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    listener.start()
    log.info("mail-in listening on %s:%s (%s)", listener.hostname, listener.port, "LMTP" if lmtp else "SMTP")
    if started is not None:
        started.set()
    try:
        stop.wait()
    finally:
        listener.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
        log.info("mail-in stopped")
