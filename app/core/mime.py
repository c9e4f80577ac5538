"""A MIME message written straight to bytes, for mail sent in bulk (reminder e-mails).

    msg = build_raw(to="a@b.dk", to_name="Ane", subject="Hi", text="plain", html="<p>html</p>")
    msg.data        # the whole message (CRLF line ends), ready for a file or SMTP DATA

    body = QPTemplate(html, markers=("@link@",))     # one rendering for many recipients
    build_raw(..., html=body.fill({"@link@": "https://..."}))   # re-encodes only the marked lines

`mail.build_message` goes through the standard library's `EmailMessage`, whose header
registry parses every header when it is set and folds it again when the message is
written: about 20 ms of CPU per message on a loaded 2-core machine, 100 times what writing
the same bytes takes (bench/reminder_throughput.py, docs/reminders.md#benchmarks). The
message is the same shape: multipart/alternative with a text and an HTML part (CSS
inlined), UTF-8, quoted-printable bodies, RFC 2047 encoded words for non-ASCII headers.
"""

from __future__ import annotations

import binascii
import itertools
import os
import re
import secrets
import time
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import lru_cache

CRLF = "\r\n"
SENDER_CACHE_SIZE = 8
ADDRESS_CACHE_SIZE = 1024  # recipients' formatted To values kept
DATE_CACHE_SIZE = 2  # Date values (one per second)
HEADER_LINE_CHARS = 76  # where encoded headers are folded (RFC 2047 keeps each word under 76)


@dataclass(frozen=True)
class RawMessage:
    """A finished message and its envelope: `sender` and `to` are bare addresses."""

    sender: str
    to: str
    data: bytes


def _header(name: str, value: str) -> str:
    if value.isascii():
        return f"{name}: {value}"
    return f"{name}: " + Header(value, "utf-8", maxlinelen=HEADER_LINE_CHARS, header_name=name).encode(CRLF)


@lru_cache(maxsize=ADDRESS_CACHE_SIZE)
def _address(address: str, name: str | None) -> str:
    # Cached: bulk mail goes to the same few hundred users again and again.
    if not name:
        return address
    # formataddr quotes the name when it needs it and encodes it (RFC 2047) when it is not ASCII.
    return formataddr((name, address), charset="utf-8")


@dataclass(frozen=True)
class Encoded:
    """A body already quoted-printable encoded (LF line ends), written by `build_raw` as it is."""

    data: str


def qp_encode(body: str) -> str:
    """`body` (LF line ends) quoted-printable encoded. Quoted-printable keeps the text readable
    in a raw .eml; it also never contains "=_", which the boundary starts with."""
    return binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii")



class QPTemplate:
    """A body encoded once with markers in it, for many recipients: `fill` puts one recipient's
    values in place of the markers and re-encodes only the lines that hold one.

    Quoted-printable encodes line by line (a line and its newline encode the same alone as
    within the body), so the result is byte for byte what encoding the filled body gives. A
    lone CR (not part of a CRLF) breaks that rule: such a body is encoded whole per recipient.
    Values must be single-line.
    """

    def __init__(self, body: str, markers: tuple[str, ...]):
        body = body.replace("\r\n", "\n")
        self.markers = markers
        self.whole = body if "\r" in body else None
        self.pieces: list[str | tuple[str]] = []  # encoded text, or (a raw line with markers,)
        if self.whole is not None:
            return
        spans = []  # (start, end) of each whole line holding a marker, its newline included
        for marker in markers:
            at = body.find(marker)
            while at >= 0:
                end = body.find("\n", at)
                end = len(body) if end < 0 else end + 1
                spans.append((body.rfind("\n", 0, at) + 1, end))
                at = body.find(marker, end)
        pos = 0
        for start, end in sorted(spans):
            if end <= pos:
                continue  # a line with two markers
            if start > pos:
                self.pieces.append(qp_encode(body[pos:start]))
                self.pieces.append((body[start:end],))
            elif self.pieces and isinstance(self.pieces[-1], tuple):  # the next line: one piece
                self.pieces[-1] = (self.pieces[-1][0] + body[start:end],)
            else:
                self.pieces.append((body[start:end],))
            pos = max(pos, end)
        if pos < len(body):
            self.pieces.append(qp_encode(body[pos:]))

    @classmethod
    def from_pieces(cls, pieces: list[str | tuple[str]]) -> QPTemplate:
        """A template from encoded text and (raw lines with markers,), as `pieces` holds them
        (core/skeleton.py builds them without encoding the whole body)."""
        self = cls.__new__(cls)
        self.markers, self.whole, self.pieces = (), None, pieces
        return self

    def fill(self, values: dict[str, str]) -> Encoded:
        if self.whole is not None:
            return Encoded(qp_encode(_replace(self.whole, values)))
        return Encoded("".join([p if type(p) is str else _fill_lines(p[0], values) for p in self.pieces]))


def _replace(text: str, values: dict[str, str]) -> str:
    for marker, value in values.items():
        text = text.replace(marker, value)
    return text


# Encoding a line costs ~10 ns a character (b2a_qp), and the link lines of a reminder's HTML
# are long (inlined styles). A value of characters quoted-printable writes as they are takes
# the same room as any other such characters, so where the soft line breaks fall depends on
# its length only: the lines are encoded once per set of value lengths with a stand-in
# character in the values' places, and each recipient's characters are put where it landed.
LAYOUTS_KEPT = 256  # (lines, value lengths) encodings kept
_STAND_INS = "~^`|{}"  # written as they are; one not found in the lines stands in for values
# Values a stand-in can take the place of, joined by NUL: each one or more such characters, not
# ending with "." (a "." alone at the start of a line is encoded).
_LITERALS = re.compile(r"[A-Za-z0-9_\-.]*[A-Za-z0-9_\-](?:\x00[A-Za-z0-9_\-.]*[A-Za-z0-9_\-])*")


def _fill_lines(lines: str, values: dict[str, str]) -> str:
    layout = _layout(lines, tuple((marker, len(value)) for marker, value in values.items()))
    if layout is not None:
        encoded, spans, order = layout
        tokens = [values[marker] for marker in order]
        if _LITERALS.fullmatch("\x00".join(tokens)):
            stream = "".join(tokens)
            return encoded.format(*[stream[start:end] for start, end in spans])
    return qp_encode(_replace(lines, values))


@lru_cache(maxsize=LAYOUTS_KEPT)
def _layout(lines: str, lengths: tuple[tuple[str, int], ...]) -> tuple[str, list[tuple[int, int]], list[str]] | None:
    """(the encoded lines as a format string, a field per stand-in run; each run's slice of the
    values' characters in order; the markers in order of appearance), for values of `lengths`
    ((marker, length) pairs)."""
    stand_in = next((c for c in _STAND_INS if c not in lines), None)
    if stand_in is None or not lengths:
        return None
    length = dict(lengths)
    pattern = re.compile("|".join(re.escape(m) for m in sorted(length, key=len, reverse=True)))
    order = [found.group() for found in pattern.finditer(lines)]
    if not order:
        return None
    encoded = qp_encode(pattern.sub(lambda found: stand_in * length[found.group()], lines))
    parts = re.split(f"({re.escape(stand_in)}+)", encoded)
    spans, at = [], 0
    for run in parts[1::2]:
        spans.append((at, at + len(run)))
        at += len(run)
    text = [part.replace("{", "{{").replace("}", "}}") for part in parts[0::2]]
    return "{}".join(text), spans, order


def _part(subtype: str, body: str | Encoded) -> list[str]:
    encoded = body.data if isinstance(body, Encoded) else qp_encode(body.replace("\r\n", "\n"))
    return [f'Content-Type: text/{subtype}; charset="utf-8"', "Content-Transfer-Encoding: quoted-printable", "",
            encoded.replace("\n", CRLF)]


_names = itertools.count()
_name_prefix = ["", -1]  # [random hex, the pid it was drawn in]


def unique_name() -> str:
    """32 hex characters unique across processes and calls (a random part per process and a
    counter): a multipart boundary or a file name. A uuid4 per message cost more than the
    message's headers."""
    if _name_prefix[1] != os.getpid():  # a forked child draws its own
        _name_prefix[:] = [secrets.token_hex(10), os.getpid()]
    return f"{_name_prefix[0]}{next(_names) & 0xFFFFFFFFFFFF:012x}"


@lru_cache(maxsize=DATE_CACHE_SIZE)
def _date(second: int) -> str:
    return formatdate(second, localtime=False)  # the same for every message of a second


@lru_cache(maxsize=SENDER_CACHE_SIZE)
def _sender(sender: str) -> tuple[str, str]:
    """(bare address, Message-ID domain) of a From value: the same for every message of a hub."""
    address = parseaddr(sender)[1]
    return address, address.partition("@")[2] or "localhost"


def build_raw(*, sender: str, to: str, subject: str, text: str | Encoded, html: str | Encoded | None = None,
              to_name: str | None = None, headers: dict[str, str] | None = None) -> RawMessage:
    """The message's bytes. `sender` is the From header (a name and address); header values
    must already be one line (mail._clean_header); `html` must already have its CSS inlined.
    A body may come encoded already (`Encoded`, e.g. from `QPTemplate.fill`)."""
    address, domain = _sender(sender)
    lines = [_header("From", sender), "To: " + _address(to, to_name), _header("Subject", subject),
             "Date: " + _date(int(time.time()))]
    headers = dict(headers or {})
    # A caller may give a stable Message-ID (a reminder's, so replies and threads find it).
    lines.append("Message-ID: " + (headers.pop("Message-ID", None) or make_msgid(domain=domain)))
    lines += [_header(key, value) for key, value in headers.items()]
    lines.append("MIME-Version: 1.0")
    if html is None:
        lines += _part("plain", text)
    else:
        boundary = "=_" + unique_name()
        lines += [f'Content-Type: multipart/alternative; boundary="{boundary}"', "", f"--{boundary}"]
        lines += _part("plain", text)
        lines += [f"--{boundary}"]
        lines += _part("html", html)
        lines += [f"--{boundary}--"]
    return RawMessage(sender=address, to=to, data=(CRLF.join(lines) + CRLF).encode("utf-8"))
