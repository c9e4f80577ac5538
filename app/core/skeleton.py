"""Render an e-mail's Jinja templates once per *shape* and splice each message's values in.

    mail = SkeletonMail(lambda: (text_template, html_template), markers=("@link@",), inline=inline_css)
    text, html = mail.bodies(ctx, key=(language, catalog))    # mime.QPTemplate, as the plain path gives

Why: rendering a reminder's two templates, inlining the HTML's CSS (css-inline parses the
whole page) and quoted-printable encoding both costs about 0.6 ms, and thousands of e-mails
go out per second (bench/reminder_throughput.py). Most of that output is the same for every
event; only the printed values differ. So each template is rendered once per shape with a
unique sentinel in place of every printed value, the CSS inlined and the lines without a
sentinel encoded once; per event the values are escaped the way the inliner writes them and
spliced in, and only their lines encoded. The templates stay the one source of truth.

Terms. A context is a nested dict. Its *leaves* are its str and int values (not bools). Its
*shape* is everything else the output depends on: the other values (bools, None, ...), which
leaves are empty, the `key` the caller gives (language and catalog: `_()` in the templates),
and the value of every *keyed* leaf: one the template does more with than print.

What a template must respect (anything else is found, or falls back to the plain render):
- print a leaf with `{{ x }}` or `%(x)s` in `_()`, and test it (`{% if x %}`, `x or "—"`);
  any other use (a filter, a comparison, a lookup such as `names.get(x)`, a method, `+`)
  is traced while the skeleton is rendered and makes the leaf keyed (one skeleton per value:
  fine for a priority, a plain render's cost for a free text);
- a leaf printed in an HTML attribute other than `href` is keyed (a style sheet may select
  on it: `class="prio-{{ priority }}"`); a style sheet must not select on `href` values;
- a leaf inside `<style>`, `<script>` or a comment: that shape is rendered plainly.
- no `|safe` or `|striptags` on a leaf: they read its text as printing does (untraced).
Values with control characters other than tab and newline (the HTML parser rewrites CR and
NUL; the text body is encoded whole around a lone CR) are rendered plainly, per event.
Safety net: the first message of every new skeleton is also rendered plainly and compared;
a difference logs a warning and sends that shape down the plain path from then on.
Proof: tests/test_mail_skeleton.py compares both paths over generated contexts.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from jinja2 import Template

from app.core.mime import MarkedLines, QPTemplate, qp_encode_crlf

log = logging.getLogger("app.core.skeleton")
SKELETONS_KEPT = 512  # shapes kept per SkeletonMail (language x empty values x keyed values)
BUILD_ATTEMPTS = 8  # renders of one shape while traced uses add keyed leaves
UNKEYED_ATTRIBUTES = frozenset({"href"})  # attributes whose leaf values no style sheet selects on
RAW_TEXT_ELEMENTS = ("style", "script", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext")
# What the inliner's HTML parser changes or the QP template cannot fill line by line.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# A serialized tag: attribute values are always double-quoted, their quotes escaped (&quot;).
_HTML_TOKEN = re.compile(r'<!--.*?-->|<[^>"]*(?:"[^"]*"[^>"]*)*>|[^<]+', re.S)
_ATTRIBUTE = re.compile(r'\s([^\s=/>"]+)="([^"]*)"')
# Lines printing values and their encoding, kept across events: many values recur (a status,
# an assignee, a customer), and looking a line up costs a tenth of encoding it.
ENCODED_KEPT = 4096
_encoded: dict[str, str] = {}
_PLAIN = object()  # a shape rendered the plain way
_FILLED = object()  # a non-empty, not keyed leaf in a shape key
_TEXT, _ATTR, _RAW = 0, 1, 2  # how a value is escaped where it is printed


def _html_text(value: str) -> str:
    # How css-inline's serializer writes a text node (the HTML parser undid Jinja's escaping).
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\xa0", "&nbsp;")


def _html_attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("\xa0", "&nbsp;")


_ESCAPES = (_html_text, _html_attribute, str)


def _is_leaf(value: Any) -> bool:
    return type(value) is str or type(value) is int


def _flatten(ctx: dict[str, Any], prefix: tuple = ()) -> list[tuple[tuple, Any]]:
    out: list[tuple[tuple, Any]] = []
    for name, value in ctx.items():
        if type(value) is dict:
            out += _flatten(value, (*prefix, name))
        else:
            out.append(((*prefix, name), value))
    return out


_NO_KEYS: dict[str, Any] = {}
_OPEN, _CLOSE = object(), object()  # a nested dict's start and end in a shape


def _tree(paths: set[tuple]) -> dict[str, Any]:
    """The keyed leaf paths as nested dicts, {name: [keyed?, {child name: ...}]}: `_walk` then
    looks each name up at its level, no path tuple built per leaf."""
    tree: dict[str, Any] = {}
    for path in paths:
        level = tree
        for n, name in enumerate(path):
            node = level.setdefault(name, [False, {}])
            if n == len(path) - 1:
                node[0] = True
            level = node[1]
    return tree


def _walk(ctx: dict[str, Any], keyed: dict[str, Any], shape: list[Any], values: list[str]) -> None:
    """One pass over a context: its shape into `shape` (each name and its value, or _FILLED for
    a filled leaf that is not keyed; a nested dict between _OPEN and _CLOSE: the same shapes
    give the same list), the filled leaves' values into `values`, in _flatten's order.
    `keyed`: the keyed paths as `_tree` gives them."""
    for name, value in ctx.items():
        kind = type(value)
        node = keyed.get(name)
        if kind is dict:
            shape += (name, _OPEN)
            _walk(value, node[1] if node else _NO_KEYS, shape, values)
            shape.append(_CLOSE)
        elif (kind is str or kind is int) and value and not (node and node[0]):
            shape += (name, _FILLED)
            values.append(value if kind is str else str(value))
        else:
            shape += (name, value)


def _tracing_str(touched: set[str]) -> type[str]:
    """A str that records (in `touched`, by its text) every use other than printing and testing."""

    def traced(name: str) -> Callable:
        method = getattr(str, name)

        def use(self, *args):
            touched.add(str.__str__(self))
            return method(self, *args)
        return use

    def number(self):
        touched.add(str.__str__(self))
        raise ValueError("a sentinel is not a number")

    def formatted(self, spec):
        if spec:
            touched.add(str.__str__(self))
        return str.__format__(self, spec)

    def attribute(self, name):
        if not name.startswith("__"):  # a method call (x.upper()), Jinja's getattr
            touched.add(str.__str__(self))
        return str.__getattribute__(self, name)

    def prepended(self, other):  # "text" + value
        touched.add(str.__str__(self))
        return other + str.__str__(self)

    names = ("__hash__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__len__", "__iter__",
             "__getitem__", "__contains__", "__add__", "__mul__", "__rmul__", "__mod__", "__rmod__")
    body = {name: traced(name) for name in names}
    # Printing (str(), markupsafe's escape) and testing (bool) are what a value may do untraced.
    body.update(__radd__=prepended, __bool__=lambda self: True, __str__=lambda self: str.__str__(self),
                __int__=number, __float__=number, __format__=formatted, __getattribute__=attribute)
    return type("Leaf", (str,), body)


class _Values:
    """A run of lines printing values, no link marker among their text: a format string whose
    fields index the body's printed values; joined and encoded per event."""

    __slots__ = ("format",)

    def __init__(self, parts: list[str | int]):
        self.format = "".join(p.replace("{", "{{").replace("}", "}}") if type(p) is str else f"{{{p}}}"
                              for p in parts)


class _MarkedValues(_Values):
    """A run of lines printing values, with link markers in them: filled per event, then its
    marked lines kept raw for each recipient's tokens."""

    __slots__ = ()


class _Skeleton:
    """One body of one shape: its pieces (encoded constant text, constant lines with link
    markers (mime.MarkedLines), runs of lines printing values) and `uses`, the (slot, escape)
    pairs the runs print, indexed by their fields."""

    def __init__(self, pieces: list[str | MarkedLines | _Values], uses: list[tuple[int, int]]):
        self.pieces = pieces
        self.uses = uses
        # Where the MarkedLines are when every other piece gives one string (no _MarkedValues).
        self.marked_at = (None if any(type(p) is _MarkedValues for p in pieces)
                          else [i for i, p in enumerate(pieces) if type(p) is MarkedLines])

    def fill(self, values: list[str], markers: tuple[str, ...], marker_re: re.Pattern) -> QPTemplate:
        printed = [_ESCAPES[escape](values[slot]) for slot, escape in self.uses]
        # A value may hold a marker too (a link given as a value): then all its lines are split.
        marked = marker_re.search("".join(printed)) is not None
        out: list[str | MarkedLines] = []  # encoded text (CRLF), or lines with link markers
        for piece in self.pieces:
            kind = type(piece)
            if kind is _Values and not marked:
                lines = piece.format.format(*printed)
                encoded = _encoded.get(lines)
                if encoded is None:
                    if len(_encoded) >= ENCODED_KEPT:
                        _encoded.clear()
                    encoded = _encoded[lines] = qp_encode_crlf(lines)
                out.append(encoded)
            elif kind is _MarkedValues or kind is _Values:
                _split_marked(piece.format.format(*printed), markers, marker_re, out)
            else:
                out.append(piece)
        if self.marked_at is not None and not marked:  # constant lines with markers: known places
            pieces, start = [], 0
            for at in self.marked_at:
                pieces += ["".join(out[start:at]), out[at]]
                start = at + 1
            pieces.append("".join(out[start:]))
            return QPTemplate.from_pieces(pieces, joined=True)
        return QPTemplate.from_pieces(out)


def _split_marked(lines: str, markers: tuple[str, ...], marker_re: re.Pattern,
                  out: list[str | MarkedLines]) -> None:
    """Lines with link markers go out raw (encoded per recipient, with their tokens in them),
    the others encoded now."""
    run: list[str] = []  # marked lines in a row
    parts = lines.split("\n")  # not splitlines(): quoted-printable breaks lines at LF only
    for n, line in enumerate(parts):
        if n < len(parts) - 1:
            line += "\n"
        elif not line:
            break
        if marker_re.search(line):
            run.append(line)
            continue
        if run:
            out.append(MarkedLines("".join(run), markers))
            run = []
        out.append(qp_encode_crlf(line))
    if run:
        out.append(MarkedLines("".join(run), markers))


def _lines(segments: list[str | tuple[int, int]], uses: dict[tuple[int, int], int],
           markers: tuple[str, ...], marker_re: re.Pattern) -> list[str | MarkedLines | _Values]:
    """Pieces of a body: runs of constant lines QP-encoded once, runs of constant lines with link
    markers (encoded per recipient), runs of lines printing values (parts: text and indexes
    into `uses`): quoted-printable encodes line by line."""
    lines: list[list] = [[]]
    for segment in segments:
        if type(segment) is tuple:
            lines[-1].append(uses.setdefault(segment, len(uses)))
            continue
        first, *rest = segment.split("\n")
        lines[-1].append(first)
        for part in rest:
            lines[-1].append("\n")
            lines.append([part])
    runs: list[tuple[tuple[bool, bool], list]] = []  # ((prints a value, has a marker), parts)
    for line in lines:
        kind = (any(type(p) is int for p in line),
                bool(marker_re.search("".join(p for p in line if type(p) is str))))
        if runs and runs[-1][0] == kind:
            runs[-1][1].extend(line)
        else:
            runs.append((kind, list(line)))
    pieces: list[str | MarkedLines | _Values] = []
    for (values, marked), parts in runs:
        if not values:
            text = "".join(parts)
            if text:
                pieces.append(MarkedLines(text, markers) if marked else qp_encode_crlf(text))
        else:
            pieces.append((_MarkedValues if marked else _Values)(parts))
    return pieces


def _html_segments(html: str, sentinel_re: re.Pattern, slot: dict[str, int],
                   keyed: set[int]) -> list[str | tuple[int, int]] | None:
    """The inlined HTML as text and (slot, escape) parts; None when a sentinel stands where a
    value cannot be spliced in. Slots printed in an attribute other than href go to `keyed`."""
    segments: list[str | tuple[int, int]] = []
    pos = 0
    while pos < len(html):
        token = _HTML_TOKEN.match(html, pos)
        if token is None:  # a stray "<" the serializer would have escaped: not expected
            return None
        pos = token.end()
        token = token.group()
        if not token.startswith("<"):
            _split(token, sentinel_re, slot, _TEXT, segments)
            continue
        if token.startswith("<!--") and sentinel_re.search(token):
            return None
        raw = ""
        name = re.match(r"<([a-zA-Z0-9]+)", token)
        if name and name.group(1).lower() in RAW_TEXT_ELEMENTS:  # <style>: its content written as it is
            close = html.lower().find(f"</{name.group(1).lower()}", pos)
            raw, pos = html[pos:len(html) if close < 0 else close], len(html) if close < 0 else close
            if sentinel_re.search(raw):
                return None
        at = 0
        for attr in _ATTRIBUTE.finditer(token):
            start, end = attr.span(2)
            if sentinel_re.search(token, at, start):
                return None  # in a tag or attribute name
            found = sentinel_re.findall(attr.group(2))
            if found and attr.group(1).lower() not in UNKEYED_ATTRIBUTES:
                keyed.update(slot[s] for s in found)
            segments.append(token[at:start])
            _split(attr.group(2), sentinel_re, slot, _ATTR, segments)
            at = end
        if sentinel_re.search(token, at):
            return None
        segments.append(token[at:] + raw)
    return segments


def _split(text: str, sentinel_re: re.Pattern, slot: dict[str, int], escape: int,
           segments: list[str | tuple[int, int]]) -> None:
    pos = 0
    for found in sentinel_re.finditer(text):
        segments.append(text[pos:found.start()])
        segments.append((slot[found.group()], escape))
        pos = found.end()
    segments.append(text[pos:])


class SkeletonMail:
    """A text and an HTML template rendered once per shape (module docstring); `bodies` gives
    what `QPTemplate(text.render(ctx)), QPTemplate(inline(html.render(ctx)))` gives."""

    def __init__(self, templates: Callable[[], tuple[Template, Template]], *, markers: tuple[str, ...],
                 inline: Callable[[str], str], keyed: frozenset[tuple] = frozenset()):
        """`keyed`: leaf paths keyed from the start, e.g. the links with markers (the same for
        every event: their lines are then encoded once per shape, not per event)."""
        self.templates = templates
        self.markers = markers
        self.inline = inline
        self.marker_re = re.compile("|".join(re.escape(m) for m in markers)) if markers else re.compile(r"(?!)")
        self.keyed: set[tuple] = set(keyed)  # leaf paths keyed, for every shape (given or found)
        self._keyed_tree: tuple[int, dict[str, Any]] = (-1, {})  # (len(keyed) it was made of, _tree)
        self.skeletons: OrderedDict[tuple, Any] = OrderedDict()

    def plain(self, ctx: dict[str, Any]) -> tuple[QPTemplate, QPTemplate]:
        text, html = self.templates()
        return QPTemplate(text.render(ctx), self.markers), QPTemplate(self.inline(html.render(ctx)), self.markers)

    def bodies(self, ctx: dict[str, Any], key: tuple) -> tuple[QPTemplate, QPTemplate]:
        for _ in range(BUILD_ATTEMPTS):
            if self._keyed_tree[0] != len(self.keyed):  # keyed only grows
                self._keyed_tree = (len(self.keyed), _tree(self.keyed))
            shape: list[Any] = []
            values: list[str] = []
            _walk(ctx, self._keyed_tree[1], shape, values)
            try:
                found = self.skeletons.get(shape_key := (key, tuple(shape)))
            except TypeError:  # an unhashable value (a list): no shape to key on
                break
            if found is None:
                found = self._build(ctx)
                if found is None:
                    continue  # new keyed leaves: another shape key
                self._keep(shape_key, found)
                if found is not _PLAIN and not self._probe(found, ctx, _flatten(ctx)):
                    self._keep(shape_key, found := _PLAIN)
            if found is _PLAIN or _UNSAFE.search("".join(values)):
                break
            text, html = found
            return text.fill(values, self.markers, self.marker_re), html.fill(values, self.markers, self.marker_re)
        return self.plain(ctx)

    def forget(self) -> None:
        """Drop the skeletons built so far: each is built, and probed, again at its next context."""
        self.skeletons.clear()

    def _keep(self, shape: tuple, skeleton: Any) -> None:
        self.skeletons[shape] = skeleton
        if len(self.skeletons) > SKELETONS_KEPT:
            self.skeletons.popitem(last=False)

    def _probe(self, skeleton: tuple[_Skeleton, _Skeleton], ctx: dict[str, Any],
               items: list[tuple[tuple, Any]]) -> bool:
        """The first context of a new skeleton, compared with the plain render of it."""
        values = [str(v) for path, v in items if _is_leaf(v) and v and path not in self.keyed]
        if _UNSAFE.search("".join(values)):
            return True  # rendered plainly anyway; the next context probes nothing
        fast = [body.fill(values, self.markers, self.marker_re).fill({}).data for body in skeleton]
        slow = [body.fill({}).data for body in self.plain(ctx)]
        if fast != slow:
            log.warning("e-mail skeleton differs from the plain render (shape of %s); rendering it plainly",
                        sorted(".".join(map(str, path)) for path, _ in items))
            return False
        return True

    def _build(self, ctx: dict[str, Any]) -> Any:
        """The two bodies' skeletons, _PLAIN, or None when new keyed leaves were found."""
        touched: set[str] = set()
        leaf = _tracing_str(touched)
        prefix = f"zq{secrets.token_hex(6)}"
        slot: dict[str, int] = {}  # sentinel -> slot
        paths: list[tuple] = []

        def substitute(values: dict[str, Any], at: tuple) -> dict[str, Any]:
            out = {}
            for name, value in values.items():
                path = (*at, name)
                if type(value) is dict:
                    out[name] = substitute(value, path)
                elif _is_leaf(value) and value and path not in self.keyed:
                    sentinel = f"{prefix}{len(paths):04d}q"
                    slot[sentinel] = len(paths)
                    paths.append(path)
                    out[name] = leaf(sentinel)
                else:
                    out[name] = value
            return out

        text_template, html_template = self.templates()
        skeleton_ctx = substitute(ctx, ())
        try:
            text = text_template.render(skeleton_ctx)
            html = self.inline(html_template.render(skeleton_ctx))
        except Exception:  # noqa: BLE001 - e.g. arithmetic on a sentinel: the plain render decides
            if touched:
                self.keyed.update(paths[slot[s]] for s in touched)
                return None
            return _PLAIN
        if touched:
            self.keyed.update(paths[slot[s]] for s in touched)
            return None
        sentinel_re = re.compile(re.escape(prefix) + r"\d{4}q")
        keyed: set[int] = set()
        html_segments = _html_segments(html, sentinel_re, slot, keyed)
        if keyed:
            self.keyed.update(paths[i] for i in keyed)
            return None
        if html_segments is None or "\r" in text:
            return _PLAIN
        text_segments: list[str | tuple[int, int]] = []
        _split(text, sentinel_re, slot, _RAW, text_segments)
        bodies = []
        for segments in (text_segments, html_segments):
            uses: dict[tuple[int, int], int] = {}
            pieces = _lines(segments, uses, self.markers, self.marker_re)
            bodies.append(_Skeleton(pieces, list(uses)))
        return tuple(bodies)
