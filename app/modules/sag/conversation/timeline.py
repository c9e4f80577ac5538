"""A case's timeline: notes, status changes (with their notes), assignments, deadline changes and
the reminders sent for it, each with who and when, newest last, in pages counted from the newest.

Page 1 is the newest PAGE_SIZE entries; page 2 the ones before them, and so on, so a long case
opens at its latest activity and "older entries" walks back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from app.core import database
from app.core.errors import ValidationFailed
from app.core.queries import load_queries
from app.modules.sag.conversation.notes import require_case

Q = load_queries(Path(__file__).parent / "queries" / "timeline.sql")

PAGE_SIZE = 50        # entries per timeline page
PAGE_SIZE_MAX = 200
MENTION_LIMIT = 8     # users offered by the @-autocomplete
MENTION_PREFIX_MAX = 64
KINDS = ("created", "status", "note", "assignment", "deadline", "reminder")


def timeline(conn: psycopg.Connection, case_id: int, page: int = 1, page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """{items (oldest first), total, page, pages, page_size, older_page, newer_page}."""
    if page < 1:
        raise ValidationFailed("page must be 1 or more", field="page")
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise ValidationFailed("page_size must be 1-%(max)s", field="page_size", max=PAGE_SIZE_MAX)
    require_case(conn, case_id)
    total = conn.execute(Q["timeline_count"], {"case_id": case_id}).fetchone()["n"]
    pages = max(1, -(-total // page_size))
    rows = conn.execute(Q["timeline_page"], {"case_id": case_id, "limit": page_size,
                                             "offset": (page - 1) * page_size}).fetchall()
    rows.reverse()
    return {"items": rows, "total": total, "page": page, "pages": pages, "page_size": page_size,
            "older_page": page + 1 if page < pages else None, "newer_page": page - 1 if page > 1 else None}


def mention_candidates(conn: psycopg.Connection, prefix: str, limit: int = MENTION_LIMIT) -> list[dict[str, Any]]:
    """Active users for the @-autocomplete: username, full name or a word of it starts with `prefix`."""
    prefix = (prefix or "").strip().lstrip("@").strip('"').lower()
    if len(prefix) > MENTION_PREFIX_MAX or "\x00" in prefix:
        raise ValidationFailed("q must be at most %(max)s characters of text", field="q", max=MENTION_PREFIX_MAX)
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return conn.execute(Q["mention_candidates"], {"prefix": escaped + "%", "limit": limit}).fetchall()


def page_context(case_id: int, page: int = 1) -> dict[str, Any]:
    """What the case page's timeline partial needs; a page past the oldest shows the oldest."""
    with database.transaction() as conn:
        first = timeline(conn, case_id, 1)
        shown = first if page <= 1 else timeline(conn, case_id, min(page, first["pages"]))
    return {"timeline": shown, "note_draft": ""}
