"""The rows of generated cases, encoded for `COPY ... (FORMAT BINARY)` (no database needed).

`encode()` turns a list of plans (bulk_plan.CasePlan) into the five tables' rows as ready COPY
data: what the triggers would have written (bulk_plan.derive), the watchers, and each case's
`notes_search`. It runs in producer processes (bulk.py), which have no connection, so the
values are encoded by psycopg's compiled dumpers without a connection; an instant is already
PostgreSQL's microseconds since 2000 (bulk_plan.CasePlan), which COPY's binary format takes as
the 8-byte integer psycopg's int8 dumper writes.

`notes_search` is what sag_notes_reindex computes, `to_tsvector('simple', string_agg(body,
E'\n' ORDER BY id))`, built from the words of each note text (`NoteWords`, asked once from the
server per text): the words of the joined text are those of its parts, the positions of each
part moved past the last position of the parts before it. Writing the vector with the case
row saves the server parsing every note again (the most expensive part of inserting the
cases); tests/test_cases_bulk.py compares the result with the server's own.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

import psycopg
from psycopg import postgres, pq
from psycopg.adapt import AdaptersMap, Dumper, Transformer

try:  # psycopg's compiled row formatter of COPY (where psycopg 3.3 keeps it)
    from psycopg._copy_base import format_row_binary
except ImportError:  # psycopg 3.2
    from psycopg.copy import format_row_binary

from app.modules.sag.cases.bulk_plan import CasePlan, derive
from app.modules.sag.sla.bulk_clocks import Clocks

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
TRAILER = b"\xff\xff"
# tsvector limits (PostgreSQL's MAXENTRYPOS - 1 and MAXNUMPOS - 1): a later position is stored as
# the highest one, and a word keeps at most this many positions.
MAX_POSITION = 16383
MAX_POSITIONS = 255

# The columns each encoded row fills, in order, with their types (history and note ids come from
# their sequences, in the order the rows are copied, which is each case's time order).
COLUMNS = {
    "sag_sager": (("id", "int4"), ("title", "text"), ("description", "text"), ("customer_id", "int4"),
                  ("status", "text"), ("priority", "text"), ("assigned_to", "int4"), ("created_by", "int4"),
                  ("deadline", "timestamptz"), ("closed_at", "timestamptz"), ("version", "int4"),
                  ("created_at", "timestamptz"), ("updated_at", "timestamptz"), ("notes_search", "tsvector")),
    "sag_status_history": (("sag_id", "int4"), ("from_status", "text"), ("to_status", "text"),
                           ("changed_by", "int4"), ("note", "text"), ("changed_at", "timestamptz"),
                           ("created_at", "timestamptz")),
    "sag_notes": (("sag_id", "int4"), ("author_id", "int4"), ("body", "text"), ("via", "text"),
                  ("created_at", "timestamptz")),
    "sag_sla_clocks": (("sag_id", "int4"), ("policy_id", "int4"), ("calendar_id", "int4"),
                       ("first_response_at", "timestamptz"), ("response_due_at", "timestamptz"),
                       ("response_warn_at", "timestamptz"), ("resolution_due_at", "timestamptz"),
                       ("resolution_warn_at", "timestamptz"), ("paused_minutes", "float8"),
                       ("paused_since", "timestamptz"), ("created_at", "timestamptz"), ("updated_at", "timestamptz")),
    "sag_watchers": (("sag_id", "int4"), ("user_id", "int4"), ("reason", "text"), ("created_at", "timestamptz")),
}
TSVECTOR_OID = 3614
# What each column's values are written as: a timestamptz is the int8 of its microseconds.
DUMP_AS = {"timestamptz": "int8"}

_length = struct.Struct("!i").pack
_one_position = struct.Struct("!HH").pack


class _TsvectorDumper(Dumper):
    """A tsvector already in its binary form (notes_search)."""
    format = pq.Format.BINARY
    oid = TSVECTOR_OID

    def dump(self, obj: bytes) -> bytes:
        return obj


_adapters = AdaptersMap(psycopg.adapters)
_adapters.register_dumper(None, _TsvectorDumper)


def _formatter(table: str):
    """Rows of `table` -> COPY binary data, by psycopg's own (compiled) row formatter."""
    tx = Transformer(_adapters)
    tx.set_dumper_types([TSVECTOR_OID if t == "tsvector" else postgres.types[DUMP_AS.get(t, t)].oid
                         for _c, t in COLUMNS[table]], pq.Format.BINARY)

    def format_rows(rows: list[tuple]) -> bytes:
        out = bytearray()
        for row in rows:
            format_row_binary(row, tx, out)
        return bytes(out)

    return format_rows


_FORMAT = {table: _formatter(table) for table in COLUMNS}


class NoteWords(NamedTuple):
    """The words of one note text: (lexeme as UTF-8 + NUL, positions) sorted, the last position,
    and the text's tsvector alone (binary)."""
    words: tuple[tuple[bytes, tuple[int, ...]], ...]
    last: int
    alone: bytes


class Encoded(NamedTuple):
    cases: int
    history: int
    notes: int
    # COPY data (rows only, without signature and trailer) per table.
    data: dict[str, bytes]


def tsvector(words: dict[bytes, tuple[int, ...]]) -> bytes:
    """A tsvector in PostgreSQL's binary format (tsvectorrecv) from {lexeme + NUL: positions
    ascending}: lexemes in byte order (the NUL ends each, and sorts a prefix first, as PostgreSQL does)."""
    parts = [_length(len(words))]
    append = parts.append
    for lexeme in sorted(words):
        positions = words[lexeme]
        append(lexeme)
        if len(positions) == 1:
            append(_ONE_POSITION[positions[0]])
        else:
            append(struct.pack(f"!H{len(positions)}H", len(positions), *positions))
    return b"".join(parts)


# The binary of a lexeme's one position (most lexemes of a case have one), for every position.
_ONE_POSITION = tuple(_one_position(1, p) for p in range(MAX_POSITION + 1))


def notes_search(bodies: list[str], words: dict[str, NoteWords]) -> bytes | None:
    """to_tsvector('simple', the bodies joined by newlines) in binary, from each body's words."""
    if not bodies:
        return None
    first = words[bodies[0]]
    if len(bodies) == 1:
        return first.alone
    merged = dict(first.words)
    crowded = False
    offset = first.last
    for body in bodies[1:]:
        note = words[body]
        get = merged.get
        for lexeme, positions in note.words:
            shifted = (positions[0] + offset,) if len(positions) == 1 else tuple([p + offset for p in positions])
            kept = get(lexeme)
            if kept is None:
                merged[lexeme] = shifted
            else:
                merged[lexeme] = kept = kept + shifted
                crowded = crowded or len(kept) > MAX_POSITIONS
        offset += note.last
    if crowded or offset > MAX_POSITION:
        merged = {lexeme: _limited(p) for lexeme, p in merged.items()}
    return tsvector(merged)


def _limited(positions: tuple[int, ...]) -> tuple[int, ...]:
    """Positions as a tsvector keeps them: the highest for any later one, at most MAX_POSITIONS."""
    kept: list[int] = []
    for p in positions:
        p = min(p, MAX_POSITION)
        if len(kept) < MAX_POSITIONS and (not kept or kept[-1] != p):
            kept.append(p)
    return tuple(kept)


def note_words(found: dict[str, dict[str, list[int]]]) -> dict[str, NoteWords]:
    """NoteWords of each text from {text: {lexeme: positions}} (to_tsvector's words of each)."""
    notes = {}
    for body, w in found.items():
        words = {lexeme.encode() + b"\x00": tuple(ps) for lexeme, ps in w.items()}
        notes[body] = NoteWords(tuple(sorted(words.items())), max((p for ps in w.values() for p in ps), default=0),
                                tsvector(words))
    return notes


def encode(plans: list[CasePlan], first_case: int, words: dict[str, NoteWords], clocks: Clocks) -> Encoded:
    """The rows of `plans` (case ids from `first_case` on) in COPY's binary format, with the SLA
    clocks `clocks` computes (sla/bulk_clocks.py)."""
    cases, history, notes, clock_rows, watchers = [], [], [], [], []
    add_history, add_note, add_watcher = history.append, notes.append, watchers.append
    clock = clocks.clock
    for case_id, plan in enumerate(plans, first_case):
        d = derive(plan)
        created_by, created_at, steps = plan.created_by, plan.created_at, plan.steps
        plan_notes = plan.notes
        cases.append((case_id, plan.title, plan.description, plan.customer_id, d.status, plan.priority,
                      plan.assigned_to, created_by, plan.deadline, d.closed_at, d.version, created_at,
                      d.updated_at, notes_search([n[1] for n in plan_notes], words) if plan_notes else None))
        # The insert's row: the acting user at creation is the creator (sag_record_status_history).
        add_history((case_id, None, "new", created_by, None, created_at, created_at))
        previous = "new"
        for status, actor, note, at in steps:
            add_history((case_id, previous, status, actor, note, at, at))
            previous = status
        # The clock row is written at the insert and touched by every status change.
        clock_rows.append((case_id, *clock(plan.customer_id, plan.priority, created_by, created_at, steps, plan_notes),
                           created_at, steps[-1][3] if steps else created_at))
        # Who the triggers make a watcher, once each, with the first reason: the creator, the
        # assignee, then each note's author at their first note (sag_sager_auto_watchers,
        # sag_notes_queue_notifications).
        seen = set()
        if created_by is not None:
            seen.add(created_by)
            add_watcher((case_id, created_by, "creator", created_at))
        assignee = plan.assigned_to
        if assignee is not None and assignee not in seen:
            seen.add(assignee)
            add_watcher((case_id, assignee, "assignee", created_at))
        for author, body, via, at in plan_notes:
            add_note((case_id, author, body, via, at))
            if author is not None and author not in seen:
                seen.add(author)
                add_watcher((case_id, author, "note", at))
    rows = {"sag_sager": cases, "sag_status_history": history, "sag_notes": notes, "sag_sla_clocks": clock_rows,
            "sag_watchers": watchers}
    return Encoded(len(cases), len(history), len(notes), {t: _FORMAT[t](r) for t, r in rows.items()})
