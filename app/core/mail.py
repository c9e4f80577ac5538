"""Outgoing e-mail: SMTP when SMTP_HOST is set, otherwise `.eml` files under DATA_DIR/mail.

    msg = build_message(to="a@b.dk", subject="Hi", text="plain", html="<p>html</p>")
    errors = send_messages([msg])      # one entry per message: None when handed over, else the error

`build_fast_message` takes the same arguments and writes the message straight to bytes
(core/mime.py): reminder e-mails go out in bulk, and the standard library's EmailMessage
costs ~100 times more per message. `send_messages` takes either kind.

HTML bodies get their CSS (a <style> block) inlined with css-inline, since many mail
clients drop style sheets. One SMTP connection serves a whole batch.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path

import css_inline

from app.core.config import get_settings
from app.core.mime import CRLF, Encoded, RawMessage, address_value, build_raw, header, sender_parts, unique_name

log = logging.getLogger("app.core.mail")
MAIL_SUBDIR = "mail"
MAX_SUBJECT_CHARS = 250
FILE_MODE = 0o666  # of a written .eml file, less the umask (as open() gives)
MAX_HEADER_CHARS = 900  # other headers: a List-Unsubscribe URL must stay whole
# Lines up to RFC 5322's hard limit of 998: with the default 78, a long URL in a header
# (List-Unsubscribe) would be folded into RFC 2047 encoded words no mail client reads as a URL.
MESSAGE_POLICY = policy.default.clone(max_line_length=998)

_inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def inline_css(html: str) -> str:
    return _inliner.inline(html)


def clean_header(value: str, limit: int = MAX_SUBJECT_CHARS) -> str:
    """`value` on one line (runs of whitespace, CR and LF among it, become one space) and at
    most `limit` characters: a header taken from user data cannot add headers (injection)."""
    return " ".join(str(value).split())[:limit]


def header_line(name: str, value: str, limit: int = MAX_SUBJECT_CHARS) -> str:
    """One header of a message written by mime.raw_message: `value` cleaned (clean_header) and
    encoded (RFC 2047 when not ASCII), the line ending in CRLF."""
    return header(name, clean_header(value, limit)) + CRLF


def sender_address(sender: str) -> str:
    """The bare address of a From value (the envelope's sender)."""
    return sender_parts(sender)[0]


def to_line(to: str, to_name: str | None) -> str:
    """The To header line (mime.raw_message) of an address and its name (cleaned, encoded)."""
    return "To: " + address_value(clean_header(to, MAX_HEADER_CHARS), clean_header(to_name) if to_name else None) + CRLF


def build_message(*, to: str, subject: str, text: str, html: str | None = None,
                  to_name: str | None = None, headers: dict[str, str] | None = None) -> EmailMessage:
    """`headers` may set Message-ID (e.g. one stable per reminder); otherwise a random one is made."""
    settings = get_settings()
    headers = dict(headers or {})
    msg = EmailMessage(policy=MESSAGE_POLICY)
    msg["From"] = settings.mail_from
    msg["To"] = formataddr((clean_header(to_name), to)) if to_name else to
    msg["Subject"] = clean_header(subject)
    msg["Date"] = formatdate(localtime=False)
    domain = parseaddr(settings.mail_from)[1].partition("@")[2] or "localhost"
    msg["Message-ID"] = clean_header(headers.pop("Message-ID", None) or make_msgid(domain=domain), MAX_HEADER_CHARS)
    for key, value in headers.items():
        msg[key] = clean_header(value, MAX_HEADER_CHARS)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(inline_css(html), subtype="html")
    return msg


def build_fast_message(*, to: str, subject: str, text: str | Encoded, html: str | Encoded | None = None,
                       to_name: str | None = None, headers: dict[str, str] | None = None,
                       html_inlined: bool = False) -> RawMessage:
    """What build_message builds, written straight to bytes (mime.py): for mail sent in bulk.

    `html_inlined`: the caller already ran `inline_css` on `html` (one rendering shared by
    many recipients is inlined once); an `Encoded` body (mime.QPTemplate) must be inlined already."""
    return build_raw(sender=get_settings().mail_from, to=to, to_name=clean_header(to_name) if to_name else None,
                     subject=clean_header(subject), text=text,
                     html=inline_css(html) if isinstance(html, str) and not html_inlined else html,
                     headers={key: clean_header(value) for key, value in (headers or {}).items()})


def _bytes(msg: EmailMessage | RawMessage) -> bytes:
    return msg.data if isinstance(msg, RawMessage) else msg.as_bytes()


def mail_dir() -> Path:
    return get_settings().data_dir / MAIL_SUBDIR


# A file is written unnamed (O_TMPFILE) and linked into the outbox once complete: readers never
# see a half-written file, and the directory changes once per file where a named temporary file
# changed it three times (its creation, then rename's removal and addition): ~10 µs less a file on
# ext4, the same on tmpfs (docs/reminders.md, "Twelfth round"). Where the file system or the
# kernel refuses it, or /proc is not there to link through, files get a temporary name instead.
_UNNAMED = getattr(os, "O_TMPFILE", None)
# What the unnamed way fails with where it is not available: the open, without kernel or file
# system support; the link (the directory took the file, so it is writable), without /proc or
# with a /proc that may not be linked from.
_OPEN_REFUSED = frozenset({errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL})
_LINK_REFUSED = frozenset({errno.ENOENT, errno.EXDEV, errno.EPERM, errno.EACCES, errno.EOPNOTSUPP, errno.EINVAL})
_unnamed_refused_on: set[int] = set()  # devices (st_dev) where it failed: named files there from then on


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _write_unnamed(folder: int, name: str, data: bytes) -> bool:
    """`data` as the file `name` in `folder`, written unnamed and then linked; False when this
    system refuses that (nothing is left behind), an OSError for any other failure."""
    try:
        fd = os.open(".", os.O_WRONLY | _UNNAMED, FILE_MODE, dir_fd=folder)
    except OSError as exc:
        if exc.errno in _OPEN_REFUSED:
            return False
        raise
    try:
        _write_all(fd, data)
        try:
            os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=folder, follow_symlinks=True)
        except OSError as exc:
            if exc.errno in _LINK_REFUSED:
                return False
            raise
    finally:
        os.close(fd)  # an unnamed file not linked is gone with it
    return True


def _write_named(folder: int, name: str, data: bytes) -> None:
    fd = os.open(name + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE, dir_fd=folder)
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        # Readers never see a half-written file.
        os.rename(name + ".tmp", name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError:
        with contextlib.suppress(OSError):  # a disk full: no partial file left behind
            os.unlink(name + ".tmp", dir_fd=folder)
        raise


def _write_file(folder: int, name: str, data: bytes, device: int | None) -> str | None:
    """`data` as the file `name` in the directory open as `folder` (a descriptor: each file
    looks up one name, not every directory of the path), on the file system `device`."""
    try:
        if device is not None and device not in _unnamed_refused_on:
            if _write_unnamed(folder, name, data):
                return None
            _unnamed_refused_on.add(device)
        _write_named(folder, name, data)
        return None
    except OSError as exc:
        return f"file backend: {exc}"


def _write_files(messages: list[EmailMessage | RawMessage]) -> list[str | None]:
    path = mail_dir()
    path.mkdir(parents=True, exist_ok=True)
    try:
        folder = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        return [f"file backend: {exc}"] * len(messages)
    try:
        device = os.fstat(folder).st_dev if _UNNAMED is not None else None
        # One after the other: creating a file is kernel CPU, not a wait (docs/reminders.md, "Files"),
        # so writer threads only added their hand-offs (1.6-1.9 times the CPU, measured here).
        return [_write_file(folder, f"{unique_name()}.eml", _bytes(m), device) for m in messages]
    finally:
        os.close(folder)


def _smtp_connection() -> smtplib.SMTP:
    s = get_settings()
    if s.smtp_ssl:
        conn: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s,
                                              context=ssl.create_default_context())
    else:
        conn = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s)
        if s.smtp_starttls:
            conn.starttls(context=ssl.create_default_context())
    if s.smtp_username:
        conn.login(s.smtp_username, s.smtp_password or "")
    return conn


def send_messages(messages: list[EmailMessage | RawMessage]) -> list[str | None]:
    """Hand every message to the transport; returns per message None (ok) or an error text."""
    if not messages:
        return []
    if not get_settings().smtp_host:
        return _write_files(messages)
    try:
        conn = _smtp_connection()
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("SMTP connection failed: %s", type(exc).__name__)
        return [f"SMTP connection failed: {exc}"[:500]] * len(messages)
    results: list[str | None] = []
    try:
        for msg in messages:
            try:
                if isinstance(msg, RawMessage):
                    refused = conn.sendmail(msg.sender, [msg.to], msg.data)
                else:
                    refused = conn.send_message(msg)
                results.append(f"SMTP refused: {refused}"[:500] if refused else None)
            except smtplib.SMTPServerDisconnected as exc:
                results.append(f"SMTP disconnected: {exc}"[:500])
                results.extend([f"SMTP disconnected: {exc}"[:500]] * (len(messages) - len(results)))
                break
            except (OSError, smtplib.SMTPException) as exc:
                results.append(f"SMTP error: {exc}"[:500])
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return results


def send_message(msg: EmailMessage | RawMessage) -> str | None:
    return send_messages([msg])[0]
