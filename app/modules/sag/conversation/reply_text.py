"""The new text of an e-mail reply: the quoted message and the signature cut off.

A small function rather than a library: the reply parsers on PyPI are either unmaintained or pull
in machine-learning dependencies, and mail clients mark replies in a handful of ways:

- a header line before the quote: `On <date>, <name> wrote:` (possibly wrapped over two lines),
  Danish `Den <date> skrev <name>:`, Outlook's `-----Original Message-----`, a line of
  underscores, or a `From:` line followed by `Sent:`/`Date:` (Outlook's header block);
- quoted lines starting with `>`;
- a signature after the `-- ` delimiter (RFC 3676), or a "Sent from my phone" line.
"""

from __future__ import annotations

import re

QUOTE_HEADER_RE = re.compile(
    r"^\s*(?:on\s.+\swrote:|den\s.+\sskrev.*:|-{2,}\s*original message\s*-{2,}|_{10,}|-{10,})\s*$",
    re.IGNORECASE)
OUTLOOK_FROM_RE = re.compile(r"^\s*\*?(?:from|fra):\*?\s", re.IGNORECASE)
OUTLOOK_NEXT_RE = re.compile(r"^\s*\*?(?:sent|date|dato|sendt|to|til):\*?\s", re.IGNORECASE)
SIGNATURE_RE = re.compile(r"^(?:--\s?|sent from my .+|sendt fra min .+|get outlook for .+)$", re.IGNORECASE)
OUTLOOK_LOOKAHEAD_LINES = 3


def _quote_starts(lines: list[str], i: int) -> bool:
    line = lines[i]
    if QUOTE_HEADER_RE.match(line):
        return True
    # "On Tue, 1 Dec 2026 at 10:00, Anna Jensen <anna@example.test>" + newline + "wrote:"
    if i + 1 < len(lines) and QUOTE_HEADER_RE.match(f"{line.rstrip()} {lines[i + 1].strip()}"):
        return True
    if OUTLOOK_FROM_RE.match(line):
        return any(OUTLOOK_NEXT_RE.match(nxt) for nxt in lines[i + 1:i + 1 + OUTLOOK_LOOKAHEAD_LINES])
    return False


def strip_reply(text: str) -> str:
    """The reply's own text: everything above the quoted message and the signature, without `>` lines."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if _quote_starts(lines, i) or SIGNATURE_RE.match(line.rstrip("\n")):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()
