"""The rows of generated cases, encoded for `COPY ... (FORMAT BINARY)` (no database needed).

`encode()` turns a list of plans (bulk_plan.CasePlan) into the five tables' rows as ready COPY
data: what the triggers would have written (bulk_plan.derive), the watchers, and each case's
`notes_search`. It runs in producer processes (bulk.py), which have no connection, so the
values are encoded here rather than by psycopg's dumpers; a text is encoded once and reused
(the stories draw from pools of a few thousand texts), a time goes straight to PostgreSQL's
microseconds since 2000.

`notes_search` is what sag_notes_reindex computes, `to_tsvector('simple', string_agg(body,
E'\n' ORDER BY id))`, built from the words of each note text (`NoteWords`, asked once from the
server per text): the words of the joined text are those of its parts, the positions of each
part moved past the last position of the parts before it. Writing the vector with the case
row saves the server parsing every note again (the most expensive part of inserting the
cases); tests/test_cases_bulk.py compares the result with the server's own.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from typing import NamedTuple

from app.modules.sag.cases.bulk_plan import CasePlan, derive

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
TRAILER = b"\xff\xff"
NULL = b"\xff\xff\xff\xff"
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# tsvector limits (PostgreSQL's MAXENTRYPOS - 1 and MAXNUMPOS - 1): a later position is stored as
# the highest one, and a word keeps at most this many positions.
MAX_POSITION = 16383
MAX_POSITIONS = 255

# The columns each encoded row fills, in order (history and note ids come from their sequences,
# in the order the rows are copied, which is each case's time order).
CASE_COLUMNS = ("id", "title", "description", "customer_id", "status", "priority", "assigned_to", "created_by",
                "deadline", "closed_at", "version", "created_at", "updated_at", "notes_search")
HISTORY_COLUMNS = ("sag_id", "from_status", "to_status", "changed_by", "note", "changed_at", "created_at")
NOTE_COLUMNS = ("sag_id", "author_id", "body", "via", "created_at")
CLOCK_COLUMNS = ("sag_id", "first_response_at", "created_at", "updated_at")
WATCHER_COLUMNS = ("sag_id", "user_id", "reason", "created_at")
COLUMNS = {"sag_sager": CASE_COLUMNS, "sag_status_history": HISTORY_COLUMNS, "sag_notes": NOTE_COLUMNS,
           "sag_sla_clocks": CLOCK_COLUMNS, "sag_watchers": WATCHER_COLUMNS}

_int4 = struct.Struct("!ii").pack
_int8 = struct.Struct("!iq").pack
_length = struct.Struct("!i").pack
_count = struct.Struct("!h").pack
_FIELDS = {table: _count(len(columns)) for table, columns in COLUMNS.items()}


class NoteWords(NamedTuple):
    """The words of one note text: (lexeme as UTF-8, positions) sorted by lexeme, and the last position."""
    words: tuple[tuple[bytes, tuple[int, ...]], ...]
    last: int


class Encoded(NamedTuple):
    cases: int
    history: int
    notes: int
    # COPY data (rows only, without signature and trailer) per table.
    data: dict[str, bytes]


_texts: dict[str, bytes] = {}


def _text(value: str | None) -> bytes:
    if value is None:
        return NULL
    encoded = _texts.get(value)
    if encoded is None:
        raw = value.encode()
        encoded = _texts[value] = _length(len(raw)) + raw
    return encoded


def _int(value: int | None) -> bytes:
    return NULL if value is None else _int4(4, value)


def _time(at: datetime | None) -> bytes:
    if at is None:
        return NULL
    d = at - PG_EPOCH
    return _int8(8, (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds)


def tsvector(words: dict[bytes, list[int]]) -> bytes:
    """A tsvector in PostgreSQL's binary format (tsvectorrecv): lexemes in byte order, positions ascending."""
    parts = [_length(len(words))]
    for lexeme in sorted(words):
        positions = words[lexeme]
        parts.append(lexeme + b"\x00" + struct.pack(f"!H{len(positions)}H", len(positions), *positions))
    raw = b"".join(parts)
    return _length(len(raw)) + raw


def notes_search(bodies: list[str], words: dict[str, NoteWords]) -> bytes:
    """to_tsvector('simple', the bodies joined by newlines), from each body's words."""
    if not bodies:
        return NULL
    merged: dict[bytes, list[int]] = {}
    offset = 0
    for body in bodies:
        note = words[body]
        for lexeme, positions in note.words:
            kept = merged.setdefault(lexeme, [])
            for p in positions:
                p = min(p + offset, MAX_POSITION)
                if len(kept) < MAX_POSITIONS and (not kept or kept[-1] != p):
                    kept.append(p)
        offset += note.last
    return tsvector(merged)


def encode(plans: list[CasePlan], first_case: int, words: dict[str, NoteWords]) -> Encoded:
    """The rows of `plans` (case ids from `first_case` on) in COPY's binary format."""
    cases, history, notes, clocks, watchers = [], [], [], [], []
    fields = _FIELDS
    for offset, plan in enumerate(plans):
        case_id = _int(first_case + offset)
        d = derive(plan)
        created_at = _time(plan.created_at)
        cases.append(b"".join((
            fields["sag_sager"], case_id, _text(plan.title), _text(plan.description), _int(plan.customer_id),
            _text(d.status), _text(plan.priority), _int(plan.assigned_to), _int(plan.created_by),
            _time(plan.deadline), _time(d.closed_at), _int(d.version), created_at, _time(d.updated_at),
            notes_search([n[1] for n in plan.notes], words))))
        # The insert's row: the acting user at creation is the creator (sag_record_status_history).
        history.append(b"".join((fields["sag_status_history"], case_id, NULL, _text("new"), _int(plan.created_by),
                                 NULL, created_at, created_at)))
        previous = "new"
        for status, actor, note, at in plan.steps:
            at = _time(at)
            history.append(b"".join((fields["sag_status_history"], case_id, _text(previous), _text(status),
                                     _int(actor), _text(note), at, at)))
            previous = status
        for author, body, via, at in plan.notes:
            notes.append(b"".join((fields["sag_notes"], case_id, _int(author), _text(body), _text(via), _time(at))))
        # The clock row is written at the insert and touched by every status change.
        last_change = _time(plan.steps[-1][3]) if plan.steps else created_at
        clocks.append(b"".join((fields["sag_sla_clocks"], case_id, _time(d.first_response_at), created_at,
                                last_change)))
        for user, reason, at in _watchers(plan):
            watchers.append(b"".join((fields["sag_watchers"], case_id, _int(user), _text(reason), _time(at))))
    data = {"sag_sager": b"".join(cases), "sag_status_history": b"".join(history), "sag_notes": b"".join(notes),
            "sag_sla_clocks": b"".join(clocks), "sag_watchers": b"".join(watchers)}
    return Encoded(len(cases), len(history), len(notes), data)


def _watchers(plan: CasePlan) -> list[tuple]:
    """Who the triggers make a watcher of a case, once each, with the first reason: the creator,
    the assignee, then each note's author at their first note (sag_sager_auto_watchers,
    sag_notes_queue_notifications)."""
    seen: dict[int, tuple] = {}
    if plan.created_by is not None:
        seen[plan.created_by] = (plan.created_by, "creator", plan.created_at)
    if plan.assigned_to is not None and plan.assigned_to not in seen:
        seen[plan.assigned_to] = (plan.assigned_to, "assignee", plan.created_at)
    for author, _body, _via, at in plan.notes:
        if author is not None and author not in seen:
            seen[author] = (author, "note", at)
    return list(seen.values())
