"""Turning a note's plain text into safe HTML, and finding the @mentions in it.

Bodies are stored as typed. Rendering escapes everything first and only then adds the few
tags we generate ourselves (links, line breaks, mention highlights), so no part of a body can
become markup.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

# `@username` (the characters usernames may have, see users.username's CHECK) or `@"Full Name"`
# as the autocomplete inserts it. The @ must not follow a word character, so e-mail addresses
# (anna@example.com) are not mentions.
MENTION_RE = re.compile(r'(?<![\w@.])@(?:"(?P<name>[^"\n]{1,200})"|(?P<username>[A-Za-z0-9._-]*[A-Za-z0-9_-]))')
# http(s) links up to the next white space; trailing punctuation is left out of the link.
URL_RE = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_TOKEN_RE = re.compile(f"(?P<url>{URL_RE.pattern})|(?P<mention>{MENTION_RE.pattern})")


def mentioned_handles(body: str) -> list[str]:
    """The handles mentioned in a body, in order, each once: usernames and quoted full names."""
    seen: dict[str, None] = {}
    for match in MENTION_RE.finditer(body or ""):
        handle = match.group("name") or match.group("username")
        handle = handle.strip()
        if handle and handle.lower() not in {h.lower() for h in seen}:
            seen[handle] = None
    return list(seen)


def _token_html(match: re.Match[str]) -> str:
    if match.group("url"):
        url = match.group("url")
        return f'<a href="{escape(url)}" rel="noopener noreferrer" target="_blank">{escape(url)}</a>'
    return f'<span class="note-mention">{escape(match.group("mention"))}</span>'


def note_html(body: str | None) -> Markup:
    """The Jinja filter: escaped text, URLs as links, @mentions highlighted, line breaks kept."""
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    last = 0
    for match in _TOKEN_RE.finditer(text):
        out.append(str(escape(text[last:match.start()])))
        out.append(_token_html(match))
        last = match.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out).replace("\n", "<br>\n"))
