"""Finding user-visible text that is not marked for translation.

Templates: text between tags, the attributes people read (`title`, `placeholder`,
`aria-label`, `alt`, `label`, `data-confirm`) and string constants printed by `{{ ... }}`
must sit in `{% trans %}` or `_()`. Inline `<script>`/`<style>` bodies are code, not text.
Python: the message of a hub error (`NotFound(...)`, shown translated on pages) and the
argument of `_()`/`gettext()` must be a plain string literal, so the catalog can hold it
(`NotFound("Case %(id)s not found", id=case_id)`, not an f-string).

What needs no translation: words without letters, the product name, and what a template
marks `{# i18n: ignore #}` on the same line (a code sample, a key shown as is).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment, nodes

from app.core.i18n_catalogs import ERROR_KEYWORDS

# Not language: the product's name and technical tokens that read the same in Danish.
UNTRANSLATED = {"BMC Hub", "API", "CVR", "e-conomic", "SLA", "CSV", "JSON", "OK", "ID", "URL", "cron",
                "Webhook", "webhook", "Slack", "Teams", "Discord", "ntfy", "SMTP", "UTC", "ETag"}
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "label", "data-confirm", "data-bs-title")
IGNORE_MARK = "i18n: ignore"
_ENTITY = re.compile(r"&[#\w]+;")
_LETTERS = re.compile(r"[^\W\d_]{2,}")
_MARKERS = {"_", "gettext", "ngettext", "pgettext", "lazy_gettext"}


def _is_language(text: str) -> bool:
    text = _ENTITY.sub(" ", text).strip()
    if not text or text in UNTRANSLATED:
        return False
    words = [w for w in _LETTERS.findall(text) if w not in UNTRANSLATED]
    return bool(words)


def _printed_constants(node: nodes.Node) -> Iterator[nodes.Const]:
    """String constants an output expression prints as they are (`x or "never"`)."""
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        yield node
    elif isinstance(node, nodes.CondExpr):
        yield from _printed_constants(node.expr1)
        if node.expr2 is not None:
            yield from _printed_constants(node.expr2)
    elif isinstance(node, (nodes.Or, nodes.And)):
        yield from _printed_constants(node.left)
        yield from _printed_constants(node.right)
    elif isinstance(node, nodes.Concat):
        for child in node.nodes:
            yield from _printed_constants(child)


class _Reader(HTMLParser):
    """What a reader sees of the template's HTML skeleton: text and the read attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.seen: list[tuple[int, str]] = []
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._code += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.seen.append((self.getpos()[0], value))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._code:
            self._code -= 1

    def handle_data(self, data: str) -> None:
        if not self._code and data.strip():
            self.seen.append((self.getpos()[0] + data[: len(data) - len(data.lstrip())].count("\n"), data))


def _skeleton(source: str, env: Environment) -> str:
    """The template's HTML with every Jinja tag replaced by a placeholder and the text of
    `{% trans %}` blocks blanked (it is marked); line breaks kept for line numbers."""
    out: list[str] = []
    in_trans = False
    after_block_begin = False
    for _lineno, kind, value in env.lex(source):
        if kind == "data":
            out.append(re.sub(r"[^\n]", " ", value) if in_trans else value)
            continue
        if kind == "whitespace":
            out.append("\n" * value.count("\n"))
            continue
        if after_block_begin and kind == "name":
            in_trans = value == "trans" or (in_trans and value != "endtrans")
        after_block_begin = kind == "block_begin"
        text = value if isinstance(value, str) else ""
        out.append("\n" * text.count("\n") + ("\u2022" if kind in ("variable_begin", "block_begin") else ""))
    return "".join(out)


def template_problems(path: Path, env: Environment) -> list[str]:
    source = path.read_text(encoding="utf-8")
    ignored = {i + 1 for i, line in enumerate(source.splitlines()) if IGNORE_MARK in line}
    found: list[str] = []

    def report(lineno: int, text: str) -> None:
        if lineno not in ignored:
            found.append(f"{path}:{lineno}: not marked for translation: {' '.join(text.split())[:80]!r}")

    reader = _Reader()
    reader.feed(_skeleton(source, env))
    reader.close()
    for lineno, text in reader.seen:
        if _is_language(text.replace("\u2022", " ")):
            report(lineno, text)
    for output in env.parse(source).find_all(nodes.Output):
        for child in output.nodes:
            if isinstance(child, nodes.TemplateData):
                continue
            for const in _printed_constants(child):
                if _is_language(const.value):
                    report(const.lineno, const.value)
    return found


def python_problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        # `_("...")`, `gettext(...)`, `i18n.gettext(...)`, `NotFound(...)`, `errors.NotFound(...)`; not a
        # catalog object's own method (`translations().gettext(text)` is how the markers look up).
        func = node.func
        if isinstance(func, ast.Name):
            name = func.id
        elif (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
              and func.value.id in ("i18n", "errors")):
            name = func.attr
        else:
            name = None
        if name not in ERROR_KEYWORDS and name not in _MARKERS:
            continue
        first = node.args[0]
        if name in ("ngettext",) or (name == "pgettext" and len(node.args) > 1):
            first = node.args[1] if name == "pgettext" else first
        if isinstance(first, ast.JoinedStr):
            found.append(f"{path}:{node.lineno}: {name}() with an f-string cannot be translated; "
                         f"use %(name)s placeholders and keyword arguments")
        elif name in _MARKERS and not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            found.append(f"{path}:{node.lineno}: {name}() needs a string literal (the catalog holds it); "
                         f"use i18n.lookup() for a text made elsewhere")
    return found
