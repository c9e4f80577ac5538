"""Reminder e-mails: HTML and text parts with the case details and signed action links.

Each e-mail speaks its recipient's language (`users.language`, else the hub's LANGUAGE; an
external address gets the hub's): the row's `language` is switched to while the message is
built, and its dates are written for that language and the recipient's time zone. The rule's
own title and message are the rule author's text and stay as written.
"""

from __future__ import annotations

import contextlib
import operator
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel.support import NullTranslations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from app.core import formats, host_context, i18n, mail, mime, signing
from app.core.config import get_settings
from app.core.mime import QPTemplate, RawMessage
from app.core.modules import current_host
from app.core.skeleton import SkeletonMail
from app.modules.sag.conversation.reply_tokens import reply_headers

EMAIL_TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "email"
# One token per e-mail (recipient and log row) behind all its links, the link's path naming what
# it does: every link of an e-mail reaches the same reader, so a token per action bound nothing
# more, and signing four cost a tenth of the message (docs/reminders.md, "Eleventh round").
LINK_PURPOSE_MAIL = "sag-reminder-mail"
# The earlier tokens, one per link (open, and each action with its name inside): still accepted
# (actions.py) until they expire.
LINK_PURPOSE_OPEN = "sag-reminder-open"
LINK_PURPOSE_ACTION = "sag-reminder-action"
LINK_PURPOSE_UNSUBSCRIBE = "sag-reminder-unsubscribe"
# An unsubscribe link keeps working long after the mail arrived (mail clients offer it then).
UNSUBSCRIBE_MAX_AGE_S = 365 * 24 * 3600
ACTIONS = ("acknowledge", "snooze_1h", "snooze_1d")
EXCERPT_CHARS = 400
SUMMARY_MAX_ITEMS = 25
LINK_PREFIX = "/sag/reminder-links"
# Where a recipient's signed token goes in an e-mail rendered once for all recipients (and the
# case number in an address list's link to the case); random per process, so no case text can
# contain (and be replaced like) one. The links are then the same for every e-mail.
_MARKERS = {name: f"bmclink{secrets.token_hex(8)}{name}" for name in ("token", "case")}

_env = Environment(
    loader=FileSystemLoader(str(EMAIL_TEMPLATES)),
    autoescape=select_autoescape(enabled_extensions=("html",), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # The templates ship with the code: no file check per message (every e-mail asked for two).
    auto_reload=False,
    extensions=["jinja2.ext.i18n"],
)
# Looked up when a message is rendered, in the language switched to for its recipient.
# The catalog of the language being written (set by `speaking`): looked up once per message,
# not once per text (finding the catalogs asks the module host for its folders).
_catalog: ContextVar[NullTranslations | None] = ContextVar("sag_email_catalog", default=None)


def _text(message: str) -> str:
    catalog = _catalog.get()
    if catalog is None:
        return i18n.lookup(message)
    translate = catalog.gettext
    return translate(message)


def _plural_forms(singular: str, plural: str, n: int) -> str:
    forms = (_catalog.get() or i18n.translations()).ngettext
    return forms(singular, plural, n)


_env.install_gettext_callables(_text, _plural_forms, newstyle=True)


def _base() -> str:
    return get_settings().base_url.rstrip("/")


def mail_token(log_id: int, user_id: int) -> str:
    """The token behind every link of the e-mail of one log row to one user."""
    return signing.sign(LINK_PURPOSE_MAIL, {"l": log_id, "u": user_id})


def open_link(log_id: int, user_id: int) -> str:
    return f"{_base()}{LINK_PREFIX}/open/{mail_token(log_id, user_id)}"


def action_link(log_id: int, user_id: int, action: str) -> str:
    return f"{_base()}{LINK_PREFIX}/action/{mail_token(log_id, user_id)}/{action}"


def unsubscribe_link(user_id: int, kind: str) -> str:
    """Signed link that switches off e-mail for this kind of reminder for this user (one click, RFC 8058)."""
    return f"{_base()}{LINK_PREFIX}/unsubscribe/{signing.sign(LINK_PURPOSE_UNSUBSCRIBE, {'u': user_id, 'k': kind})}"


def message_domain() -> str:
    """The right-hand side of the hub's Message-IDs: BASE_URL's host, the same on every worker."""
    return urlsplit(get_settings().base_url).hostname or "localhost"


def _format_time(value, tz: str | None) -> str:
    """A moment in the recipient's zone and the current language, with the zone's abbreviation
    ("1. dec. 2026 14.05 CET"); a bad stored zone falls back to the hub's (formats.zone)."""
    if value is None:
        return ""
    return f"{formats.format_datetime(value, 'medium', tz)} {formats.to_local(value, tz).tzname() or ''}".rstrip()


def recipient_language(row: dict[str, Any]) -> str:
    """The language a recipient reads: theirs (`language`), else the hub's (external addresses too)."""
    language = row.get("language")
    return language if language in i18n.LANGUAGES else i18n.default_language()


@contextlib.contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Write in `language` inside the block, with the enabled modules' catalogs: a worker job runs
    with its module host set, and code run outside one (scripts, tests) gets the process's host."""
    with host_context.use_host(host_context.active_host() or current_host()), i18n.use_language(language) as lang:
        token = _catalog.set(i18n.translations())
        try:
            yield lang
        finally:
            _catalog.reset(token)


# The row fields an e-mail's bodies are made of (see _event_view): the same values give the
# same bodies, so the recipients of one event share them.
_BODY_FIELDS = ("sag_id", "case_title", "customer_name", "status", "status_label", "status_label_da",
                "case_priority", "deadline", "timezone", "assignee_name", "description", "title", "message",
                "escalated")


_body_fields = operator.itemgetter(*_BODY_FIELDS)


def _event_view(row: dict[str, Any]) -> dict[str, Any]:
    """What `_context` reads of a row: the body fields, whether it goes to a user (links) and
    whether it has snooze links (a mention or watched-case news has no rule to bring back)."""
    view = {name: row.get(name) for name in _BODY_FIELDS}
    view["user"] = bool(row.get("user_id"))
    view["snooze"] = _has_snooze(row)
    return view


def _has_snooze(row: dict[str, Any]) -> bool:
    return row.get("rule_id") is not None or "rule_id" not in row


def _context(view: dict[str, Any]) -> dict[str, Any]:
    """The template context of one row's `_event_view`, its signed links as markers (filled per
    recipient), in the current language (the recipient's: see `speaking`)."""
    description = view["description"] or ""
    excerpt = description[:EXCERPT_CHARS] + ("…" if len(description) > EXCERPT_CHARS else "")
    case = {
        "number": view["sag_id"],
        "title": view["case_title"] or "",
        "customer": view["customer_name"] or "",
        "status_label": _status_label(view),
        "priority": view["case_priority"] or "",
        "deadline_text": _format_time(view["deadline"], view["timezone"]),
        "assignee": view["assignee_name"] or "",
        "excerpt": excerpt,
    }
    return {"title": view["title"], "message": view["message"] or "", "case": case,
            "links": _links(_base(), view["user"], view["snooze"]),
            "escalated": bool(view["escalated"]), "link_days": signing.DEFAULT_MAX_AGE_S // 86400,
            "can_reply": bool(get_settings().mail_reply_domain and view["user"]),
            "lang": i18n.get_language()}


@lru_cache(maxsize=8)
def _links(base: str, user: bool, snooze: bool) -> dict[str, str | None]:
    """The e-mail's links, markers in place of the recipient's tokens: the same for every e-mail
    of a kind, so the skeletons key on them and encode their lines once (filled per recipient)."""
    if not user:  # an address list's recipient: the case, no actions
        return {"open": f"{base}/sag/{_MARKERS['case']}", "acknowledge": None}
    links = {"open": f"{base}{LINK_PREFIX}/open/{_MARKERS['token']}",
             **{a: f"{base}{LINK_PREFIX}/action/{_MARKERS['token']}/{a}" for a in ACTIONS},
             "preferences": f"{base}/me/notifications"}
    if not snooze:
        links.update(snooze_1h=None, snooze_1d=None)
    return links


@lru_cache(maxsize=1)
def _reminder_templates() -> tuple[Template, Template]:
    return _env.get_template("reminder.txt"), _env.get_template("reminder.html")


# The reminder templates rendered once per shape, each event's values spliced in (core/skeleton.py).
_skeletons = SkeletonMail(_reminder_templates, markers=tuple(_MARKERS.values()), inline=mail.inline_css,
                          # The links (markers in place of tokens), and what the templates are known
                          # to branch on (tracing would find these at the first message).
                          keyed=frozenset({("links", name) for name in ("open", *ACTIONS, "preferences")}
                                          | {("link_days",), ("lang",), ("case", "priority")}))


def _bodies(row: dict[str, Any], cache: dict[tuple, Any]) -> tuple[QPTemplate, QPTemplate]:
    """(text, HTML with its CSS inlined) of the row's e-mail, encoded, with link markers.

    Made once per event and body fields (language, time zone, escalation...) for all its
    recipients, from the templates' skeletons; each recipient's links are filled in from `_tokens`.
    """
    language = i18n.get_language()
    try:
        fields = _body_fields(row)  # one C call; read_pending_rows gives every field
    except KeyError:
        fields = tuple(map(row.get, _BODY_FIELDS))
    key = (language, bool(row.get("user_id")), _has_snooze(row), fields)
    bodies = cache.get(key)
    if bodies is None:
        bodies = cache[key] = _skeletons.bodies(_context(_event_view(row)), key=(language, _catalog.get()))
    return bodies


class _Batch:
    """What the e-mails of one `reminder_messages` call share: the signers (the tokens' key and
    issue time), the rendered bodies per event, and header lines per distinct value."""

    def __init__(self) -> None:
        self.signer = signing.Signer(LINK_PURPOSE_MAIL)
        settings = get_settings()
        self.sender = settings.mail_from
        self.sender_address = mail.sender_address(self.sender)
        self.from_line = mail.header_line("From", self.sender)
        self.domain = mail.clean_header(message_domain(), mail.MAX_HEADER_CHARS)
        self.replies = bool(settings.mail_reply_domain)  # reply_headers gives none without it
        self.bodies: dict[tuple, Any] = {}
        self.lines: dict[tuple, str] = {}  # (kind, value...) -> header lines

    def tokens(self, row: dict[str, Any]) -> dict[str, str]:
        """{marker: the row's token} (tokens need no HTML escaping); an address list's row gets
        its case number for the link to the case."""
        if not row.get("user_id"):
            return {_MARKERS["case"]: str(row.get("sag_id"))}
        # {"l": log id, "u": user id} (actions.py reads it) as compact JSON, written directly.
        return {_MARKERS["token"]: self.signer.sign_json(b'{"l":%d,"u":%d}' % (row["id"], row["user_id"]))}

    def line(self, key: tuple, make: Any) -> str:
        found = self.lines.get(key)
        if found is None:
            found = self.lines[key] = make(*key[1:])
        return found

    def head(self, row: dict[str, Any]) -> str:
        """The message's header lines before MIME-Version, in build_fast_message's order."""
        log_id, sag_id, user_id = row["id"], row["sag_id"], row.get("user_id")
        domain = self.domain
        lines = [self.from_line,
                 self.line(("to", row["email"], row.get("user_name")), mail.to_line),
                 self.line(("subject", f"[#{sag_id}] {row['title']}"), _subject_line),
                 f"Date: {mime.date_header()}\r\nMessage-ID: <sag-reminder-{log_id}@{domain}>\r\n"
                 f"X-BMC-Reminder-Log: {log_id}\r\nAuto-Submitted: auto-generated\r\n"]
        # A reply to a user's e-mail becomes a note on the case (`bmc-hub mail-in`, docs/conversation.md).
        if self.replies:
            lines += [mail.header_line(name, value, mail.MAX_HEADER_CHARS)
                      for name, value in reply_headers(sag_id, user_id).items()]
        root = f"<sag-case-{sag_id}@{domain}>"  # a case's reminders reply to one root id
        lines.append(f"In-Reply-To: {root}\r\nReferences: {root}\r\n")
        if user_id and row.get("trigger_type"):
            lines.append(self.line(("unsubscribe", user_id, row["trigger_type"]), _unsubscribe_lines))
        return "".join(lines)


def _subject_line(subject: str) -> str:
    return mail.header_line("Subject", subject)


def _unsubscribe_lines(user_id: int, kind: str) -> str:
    link = mail.clean_header(f"<{unsubscribe_link(user_id, kind)}>", mail.MAX_HEADER_CHARS)
    return f"List-Unsubscribe: {link}\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"


def _tokens(row: dict[str, Any]) -> dict[str, str]:
    """{marker: the row's token} of one e-mail."""
    return _Batch().tokens(row)


def reminder_messages(rows: list[dict[str, Any]]) -> list[RawMessage | Exception]:
    """The e-mails of log rows of read_pending_rows, in order; a row that cannot be built gets its error.

    Written straight to bytes: these go out in bulk. Rows of one event share one rendering;
    every message is put together from pieces kept per batch (see `_Batch`).
    """
    batch = _Batch()
    out: list[RawMessage | Exception] = []
    with contextlib.ExitStack() as language:
        speaks = None
        for row in rows:
            if (wanted := recipient_language(row)) != speaks:  # once per run of one language, not per row
                language.close()
                language.enter_context(speaking(wanted))
                speaks = wanted
            try:
                out.append(_message(row, batch))
            except Exception as exc:  # noqa: BLE001 - one unbuildable e-mail is the caller's to record
                out.append(exc)
    return out


def reminder_message(row: dict[str, Any]) -> RawMessage:
    """The e-mail for one log row of read_pending_rows."""
    with speaking(recipient_language(row)):
        return _message(row, _Batch())


# A made-up pending row (read_pending_rows' columns) for warm_up: a user's reminder with every
# link and every value present (an empty value is another skeleton, built when first met).
_WARM_UP_ROW = {"id": 1, "event_id": 1, "user_id": 1, "email": "warm-up@example.invalid", "user_name": "Warm-up",
                "title": "Warm-up", "message": "Warm-up", "priority": "normal", "escalated": False, "sag_id": 1,
                "rule_id": 1, "case_title": "Warm-up", "description": "Warm-up", "status": "new",
                "status_label": "New", "status_label_da": "Ny", "case_priority": "normal",
                "deadline": datetime(2026, 1, 1, tzinfo=UTC), "customer_name": "Warm-up",
                "assignee_name": "Warm-up", "timezone": None, "language": None, "trigger_type": "status_change"}


@lru_cache(maxsize=1)
def warm_up() -> None:
    """Build (and drop) one e-mail in each language, once per process: a worker calls this when it
    starts, so its first batch does not pay for compiling the templates, loading the catalogs and
    Babel's locales and starting the CSS inliner (~0.1-0.3 s of CPU). The skeletons built on the
    way are dropped: each shape's first real e-mail builds and probes its own, as without this."""
    reminder_messages([dict(_WARM_UP_ROW, language=language) for language in i18n.LANGUAGES])
    _skeletons.forget()


def _message(row: dict[str, Any], batch: _Batch) -> RawMessage:
    text, html = _bodies(row, batch.bodies)
    # The values are tokens (URL-safe base64) and a case number: quoted-printable writes them as they are.
    return mime.raw_message(batch.sender_address, row["email"], batch.head(row), text, html, batch.tokens(row),
                            literal=True)


def _status_label(row: dict[str, Any]) -> str:
    """The case's status name in the current language (sag_statuses.label_da for Danish)."""
    if i18n.get_language() == "da" and row.get("status_label_da"):
        return row["status_label_da"]
    return row.get("status_label") or row.get("status") or ""


def summary_message(*, to: str, to_name: str | None, title: str, intro: str,
                    items: list[dict[str, Any]], language: str | None = None) -> EmailMessage:
    """One e-mail listing several reminders (the quiet-hours digest, the held-back summary), in
    `language` (the recipient's; title and intro are already written in it)."""
    with speaking(language):
        return _summary_message(to=to, to_name=to_name, title=title, intro=intro, items=items)


def _summary_message(*, to: str, to_name: str | None, title: str, intro: str,
                     items: list[dict[str, Any]]) -> EmailMessage:
    shown = [dict(i, url=f"{_base()}/sag/{i['sag_id']}" if i.get("sag_id") else None)
             for i in items[:SUMMARY_MAX_ITEMS]]
    ctx = {"title": title, "intro": intro, "items": shown, "more": max(0, len(items) - SUMMARY_MAX_ITEMS),
           "list_url": f"{_base()}/sag/reminders", "preferences_url": f"{_base()}/me/notifications",
           "lang": i18n.get_language()}
    return mail.build_message(
        to=to, to_name=to_name, subject=title,
        text=_env.get_template("summary.txt").render(ctx),
        html=_env.get_template("summary.html").render(ctx),
        headers={"Auto-Submitted": "auto-generated"},
    )
