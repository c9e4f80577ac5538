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


def header(name: str, value: str) -> str:
    """The header `name: value` (no line end), `value` RFC 2047 encoded when it is not ASCII;
    `value` must already be one line."""
    if value.isascii():
        return f"{name}: {value}"
    return f"{name}: " + Header(value, "utf-8", maxlinelen=HEADER_LINE_CHARS, header_name=name).encode(CRLF)


@lru_cache(maxsize=ADDRESS_CACHE_SIZE)
def address_value(address: str, name: str | None) -> str:
    """A To/From value: `name <address>`, the name quoted or encoded as needed (one line each)."""
    # Cached: bulk mail goes to the same few hundred users again and again.
    if not name:
        return address
    # formataddr quotes the name when it needs it and encodes it (RFC 2047) when it is not ASCII.
    return formataddr((name, address), charset="utf-8")


class Encoded:
    """A body already quoted-printable encoded, written by `build_raw` as it is: `crlf` with the
    message's CRLF line ends (how it is kept and written), `data` the same with LF."""

    __slots__ = ("crlf",)

    def __init__(self, crlf: str):
        self.crlf = crlf

    @property
    def data(self) -> str:
        return self.crlf.replace(CRLF, "\n")  # quoted-printable output has no other CR

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Encoded) and other.crlf == self.crlf

    def __hash__(self) -> int:
        return hash(self.crlf)


def qp_encode(body: str) -> str:
    """`body` (LF line ends) quoted-printable encoded. Quoted-printable keeps the text readable
    in a raw .eml; it also never contains "=_", which the boundary starts with."""
    return binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii")


def qp_encode_crlf(body: str) -> str:
    """`qp_encode(body)` with CRLF line ends, as the message holds it."""
    return binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii").replace("\n", CRLF)


# Encoding a line costs ~10 ns a character (b2a_qp), and the link lines of a reminder's HTML
# are long (inlined styles). A value of characters quoted-printable writes as they are takes
# the same room as any other such characters, so where the soft line breaks fall depends on
# its length only: the lines are encoded once per set of value lengths with a stand-in
# character in the values' places, and each recipient's characters are put where it landed.
LAYOUTS_KEPT = 64  # value-length sets whose encodings one MarkedLines keeps
_STAND_INS = "~^`|{}"  # written as they are; one not found in the lines stands in for values
# What quoted-printable writes as it is anywhere in a line (a "." too, unless it ends a value:
# alone at the start of a line it is encoded).
_LITERAL_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-."


def literal_values(values: dict[str, str]) -> bool:
    """Whether every value can take a stand-in's place: non-empty, of such characters, not
    ending with "." (link tokens, numbers)."""
    tokens = list(values.values())
    stream = "".join(tokens)
    return (stream.isascii() and not stream.encode("ascii").translate(None, _LITERAL_BYTES)
            and "." not in [t[-1:] for t in tokens] and "" not in tokens)


class MarkedLines:
    """Whole lines (LF line ends) holding markers, encoded per recipient with its values in
    them. Made once and shared by every message of a template: the layouts it keeps (per set
    of value lengths) then serve them all."""

    __slots__ = ("lines", "order", "layouts")

    def __init__(self, lines: str, markers: tuple[str, ...]):
        self.lines = lines
        found = [m for m in sorted(markers, key=len, reverse=True) if m in lines]
        pattern = re.compile("|".join(re.escape(m) for m in found)) if found else None
        self.order = [m.group() for m in pattern.finditer(lines)] if pattern else []  # markers as they appear
        self.layouts: dict[tuple[int, ...], tuple[list[str | None], list[slice]] | None] = {}

    def fill(self, values: dict[str, str], literal: bool | None = None) -> str:
        """The lines with `values` in place of their markers, encoded, CRLF line ends.
        `literal`: literal_values(values), if the caller knows it."""
        try:
            tokens = [values[marker] for marker in self.order]
        except KeyError:  # a marker without a value stays as it is
            return qp_encode_crlf(_replace(self.lines, values))
        lengths = tuple(map(len, tokens))
        layout = self.layouts.get(lengths, False)
        if layout is False:
            if len(self.layouts) >= LAYOUTS_KEPT:
                self.layouts.clear()
            layout = self.layouts[lengths] = self._layout(lengths)
        if layout is not None and (literal_values(values) if literal is None else literal):
            parts, spans = layout
            out = parts.copy()
            out[1::2] = map("".join(tokens).__getitem__, spans)
            return "".join(out)  # type: ignore[arg-type]
        return qp_encode_crlf(_replace(self.lines, values))

    def _layout(self, lengths: tuple[int, ...]) -> tuple[list[str | None], list[slice]] | None:
        """(the encoded lines in pieces: constant text, and a None per stand-in run; each run's
        slice of the values' characters in order) for values of `lengths`, in the markers' order."""
        stand_in = next((c for c in _STAND_INS if c not in self.lines), None)
        if stand_in is None or not self.order:
            return None
        text, pos = [], 0
        for marker, length in zip(self.order, lengths, strict=True):
            at = self.lines.index(marker, pos)
            text += [self.lines[pos:at], stand_in * length]
            pos = at + len(marker)
        text.append(self.lines[pos:])
        parts: list[str | None] = re.split(f"({re.escape(stand_in)}+)", qp_encode_crlf("".join(text)))
        spans, at = [], 0
        for i in range(1, len(parts), 2):
            spans.append(slice(at, at + len(parts[i])))  # type: ignore[arg-type]
            at += len(parts[i])  # type: ignore[arg-type]
            parts[i] = None
        return parts, spans


class QPTemplate:
    """A body encoded once with markers in it, for many recipients: `fill` puts one recipient's
    values in place of the markers and re-encodes only the lines that hold one.

    Quoted-printable encodes line by line (a line and its newline encode the same alone as
    within the body), so the result is byte for byte what encoding the filled body gives. A
    lone CR (not part of a CRLF) breaks that rule: such a body is encoded whole per recipient.
    Values must be single-line.
    """

    __slots__ = ("whole", "pieces")

    def __init__(self, body: str, markers: tuple[str, ...]):
        body = body.replace("\r\n", "\n")
        self.whole = body if "\r" in body else None
        self.pieces: list[str | MarkedLines] = []  # encoded text (CRLF line ends), or lines with markers
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
        pieces: list[str | list[str]] = []  # encoded text, or the raw lines of a run of marked lines
        pos = 0
        for start, end in sorted(spans):
            if end <= pos:
                continue  # a line with two markers
            if start > pos:
                pieces.append(qp_encode_crlf(body[pos:start]))
            if pieces and type(pieces[-1]) is list:  # the next line: one piece
                pieces[-1].append(body[start:end])
            else:
                pieces.append([body[start:end]])
            pos = max(pos, end)
        if pos < len(body):
            pieces.append(qp_encode_crlf(body[pos:]))
        self.pieces = [p if type(p) is str else MarkedLines("".join(p), markers) for p in pieces]

    @classmethod
    def from_pieces(cls, pieces: list[str | MarkedLines], *, joined: bool = False) -> QPTemplate:
        """A template from encoded text (CRLF line ends) and MarkedLines, as `pieces` holds them
        (core/skeleton.py builds them without encoding the whole body); `joined`: no two
        strings in a row among them."""
        self = cls.__new__(cls)
        if joined:
            self.whole, self.pieces = None, pieces
            return self
        self.whole, self.pieces = None, []
        run: list[str] = []  # encoded text in a row: joined once here, not per recipient
        for piece in pieces:
            if type(piece) is str:
                run.append(piece)
                continue
            if run:
                self.pieces.append("".join(run))
                run = []
            self.pieces.append(piece)
        if run:
            self.pieces.append("".join(run))
        return self

    def fill(self, values: dict[str, str]) -> Encoded:
        return Encoded("".join(self.filled(values)))

    def filled(self, values: dict[str, str], literal: bool | None = None) -> list[str]:
        """The encoded body (CRLF line ends) in pieces, `values` in place of the markers.
        `literal`: literal_values(values), if the caller knows it."""
        if self.whole is not None:
            return [qp_encode_crlf(_replace(self.whole, values))]
        if literal is None:
            literal = literal_values(values)
        return [p if type(p) is str else p.fill(values, literal) for p in self.pieces]


def _replace(text: str, values: dict[str, str]) -> str:
    for marker, value in values.items():
        text = text.replace(marker, value)
    return text


_PART_HEADS = {subtype: f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
                        f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}" for subtype in ("plain", "html")}


def _part(subtype: str, body: str | Encoded | QPTemplate, values: dict[str, str], literal: bool) -> list[str]:
    if type(body) is QPTemplate:
        return [_PART_HEADS[subtype], *body.filled(values, literal), CRLF]
    encoded = body.crlf if type(body) is Encoded else qp_encode_crlf(body.replace("\r\n", "\n"))
    return [_PART_HEADS[subtype], encoded, CRLF]


_names = itertools.count()
_name_prefix = [secrets.token_hex(10)]  # random per process


def _new_prefix() -> None:
    _name_prefix[0] = secrets.token_hex(10)


os.register_at_fork(after_in_child=_new_prefix)  # a forked child draws its own


def unique_name() -> str:
    """32 hex characters unique across processes and calls (a random part per process and a
    counter): a multipart boundary or a file name. A uuid4 per message cost more than the
    message's headers."""
    return f"{_name_prefix[0]}{next(_names) & 0xFFFFFFFFFFFF:012x}"


@lru_cache(maxsize=DATE_CACHE_SIZE)
def _date(second: int) -> str:
    return formatdate(second, localtime=False)  # the same for every message of a second


@lru_cache(maxsize=SENDER_CACHE_SIZE)
def sender_parts(sender: str) -> tuple[str, str]:
    """(bare address, Message-ID domain) of a From value: the same for every message of a hub."""
    address = parseaddr(sender)[1]
    return address, address.partition("@")[2] or "localhost"


def date_header(second: float | None = None) -> str:
    """The Date header's value for now (or `second`)."""
    return _date(int(time.time() if second is None else second))


def build_raw(*, sender: str, to: str, subject: str, text: str | Encoded, html: str | Encoded | None = None,
              to_name: str | None = None, headers: dict[str, str] | None = None) -> RawMessage:
    """The message's bytes. `sender` is the From header (a name and address); header values
    must already be one line (mail.clean_header); `html` must already have its CSS inlined.
    A body may come encoded already (`Encoded`, e.g. from `QPTemplate.fill`)."""
    address, domain = sender_parts(sender)
    headers = dict(headers or {})
    lines = [header("From", sender), "To: " + address_value(to, to_name), header("Subject", subject),
             "Date: " + date_header(),
             # A caller may give a stable Message-ID (a reminder's, so replies and threads find it).
             "Message-ID: " + (headers.pop("Message-ID", None) or make_msgid(domain=domain))]
    lines += [header(key, value) for key, value in headers.items()]
    return raw_message(address, to, CRLF.join(lines) + CRLF, text, html)


def raw_message(sender: str, to: str, head: str, text: str | Encoded | QPTemplate,
                html: str | Encoded | QPTemplate | None = None, values: dict[str, str] | None = None,
                literal: bool | None = None) -> RawMessage:
    """The message of `head` (its header lines before MIME-Version, each one line, encoded and
    ending in CRLF) and its bodies, for mail sent in bulk: a body may be a QPTemplate, filled
    here with `values`; `sender` and `to` are the envelope's bare addresses. `literal`:
    literal_values(values), if the caller knows it."""
    values = values or {}
    if literal is None:
        literal = literal_values(values)  # once for both bodies
    if html is None:
        out = [head, "MIME-Version: 1.0", CRLF, *_part("plain", text, values, literal)]
    elif type(text) is QPTemplate and type(html) is QPTemplate:  # the bulk case, _part inlined
        boundary = "=_" + unique_name()
        out = [head, 'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="', boundary,
               '"\r\n\r\n--', boundary, CRLF, _PART_HEADS["plain"], *text.filled(values, literal),
               CRLF, "--", boundary, CRLF, _PART_HEADS["html"], *html.filled(values, literal),
               CRLF, "--", boundary, "--", CRLF]
    else:
        boundary = "=_" + unique_name()
        out = [head, 'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="', boundary,
               '"\r\n\r\n--', boundary, CRLF, *_part("plain", text, values, literal),
               "--", boundary, CRLF, *_part("html", html, values, literal), "--", boundary, "--", CRLF]
    return RawMessage(sender=sender, to=to, data="".join(out).encode("utf-8"))
