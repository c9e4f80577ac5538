"""SLA clocks of generated case stories, computed in Python (for the bulk generator, cases/bulk.py).

A generated case's whole life is known before it is written, so its clock can be written with
it (COPY) instead of recomputed by the server afterwards: sag_sla_refresh_cases over a million
cases is two to three minutes of one server core, this is about 13 microseconds per case in
the producer processes that generate the stories anyway.

The result must be the clock sag_sla_refresh (the case trigger) computes, to the microsecond:
the same rules (sla/functions/sag_sla_clock.sql) over the same stored spans, with the same
arithmetic. The span sums are exact decimals in PostgreSQL (extract(epoch ...) is numeric)
rounded once to a double, as integer microseconds divided once here; the targets are the same
double operations in the same order; make_interval rounds seconds * 1e6 half to even, as
round() does. Instants are whole microseconds since 2000-01-01 UTC, as the stories hold them
(cases/bulk_plan.py) and PostgreSQL stores a timestamptz.
sla/tests/test_sla_bulk_clocks.py compares both for generated cases on several
calendars and policies (cases/tests/test_cases_bulk.py for an app-made case's story).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from math import ceil
from pathlib import Path
from typing import NamedTuple

import psycopg

from app.core.queries import load_queries

Q = load_queries(Path(__file__).parent / "queries" / "bulk_clocks.sql")

US = 1_000_000
# 1970-01-01 in microseconds since 2000-01-01 (the spans are read as microseconds since 1970).
UNIX_EPOCH = -946_684_800 * US


class Policy(NamedTuple):
    id: int
    customer_id: int | None
    priority: str | None
    calendar_id: int | None
    response_minutes: int
    resolution_minutes: int
    warning_percent: int
    pause: frozenset[str]


class Spans(NamedTuple):
    """A calendar's stored spans (sag_calendar_spans), in order: start and end as microseconds
    since 2000, open seconds before and through each."""
    starts: list[int]
    ends: list[int]
    before: list[int]
    after: list[int]


class ClockRules(NamedTuple):
    """Everything a clock depends on besides the case's own story (picklable, for the producers)."""
    # Most specific first, as sag_sla_refresh orders them.
    policies: tuple[Policy, ...]
    closed: frozenset[str]
    customer_calendars: dict[int, int]
    default_calendar: int | None
    spans: dict[int, Spans]


# A clock row's values after sag_id: policy_id, calendar_id, first_response_at, response_due_at,
# response_warn_at, resolution_due_at, resolution_warn_at, paused_minutes, paused_since.
Clock = tuple


def load_rules(conn: psycopg.Connection) -> ClockRules:
    """The policies, statuses, calendars and spans as the database holds them now."""
    policies = tuple(Policy(r["id"], r["customer_id"], r["priority"], r["calendar_id"], r["response_minutes"],
                            r["resolution_minutes"], r["warning_percent"], frozenset(r["pause"]))
                     for r in conn.execute(Q["policies"]))
    closed = frozenset(r["key"] for r in conn.execute(Q["closed_statuses"]))
    customer_calendars = {r["customer_id"]: r["calendar_id"] for r in conn.execute(Q["customer_calendars"])}
    default = conn.execute(Q["default_calendar"]).fetchone()
    spans: dict[int, Spans] = {}
    for r in conn.execute(Q["spans"]) if policies else ():
        spans.setdefault(r["calendar_id"], Spans([], [], [], []))
        s = spans[r["calendar_id"]]
        s.starts.append(r["start_us"] + UNIX_EPOCH)
        s.ends.append(r["end_us"] + UNIX_EPOCH)
        s.before.append(r["open_before"])
        s.after.append(r["open_after"])
    return ClockRules(policies, closed, customer_calendars, default["id"] if default else None, spans)


def _open_seconds(s: Spans, us: int) -> float:
    """sag_open_seconds: open seconds before instant `us`, counted from the first span."""
    i = bisect_right(s.starts, us) - 1
    if i < 0:
        return 0.0
    return (s.before[i] * US + max(0, min(us, s.ends[i]) - s.starts[i])) / US


class _Scope(NamedTuple):
    """What a case's customer and priority decide: the policy, its calendar and their numbers."""
    policy_id: int | None
    calendar_id: int | None
    spans: Spans | None
    stops: frozenset[str]
    # Seconds of the response target and its warning; minutes of the resolution target and its warning.
    response: float
    response_warn: float
    resolution: float
    resolution_warn: float


class Clocks:
    """Clock rows for many cases under one set of rules (the policy and calendar per customer and
    priority looked up once)."""

    def __init__(self, rules: ClockRules):
        self.rules = rules
        self._scopes: dict[tuple[int | None, str], _Scope] = {}

    def _scope(self, customer_id: int | None, priority: str) -> _Scope:
        r = self.rules
        # A case without a customer matches no customer's policy (customer_id = NULL is not true).
        p = next((p for p in r.policies if p.customer_id in (customer_id, None) and p.priority in (priority, None)),
                 None)
        if p is None:
            return _Scope(None, None, None, frozenset(), 0, 0, 0, 0)
        cal = next((c for c in (p.calendar_id, r.customer_calendars.get(customer_id), r.default_calendar)
                    if c is not None), None)
        # The targets as sag_sla_refresh computes them: minutes * percent / 100.0 is an exact
        # numeric there, rounded once to a double, as the true division of the integers here.
        return _Scope(p.id, cal, None if cal is None else r.spans.get(cal, Spans([], [], [], [])),
                      r.closed | p.pause, float(p.response_minutes) * 60,
                      (p.response_minutes * p.warning_percent / 100) * 60, float(p.resolution_minutes),
                      p.resolution_minutes * p.warning_percent / 100)

    def clock(self, customer_id: int | None, priority: str, created_by: int | None, created_at: int,
              steps: Sequence[tuple], notes: Sequence[tuple]) -> Clock:
        """The clock of a case created (status `new`) at `created_at`: `steps` its status changes
        in time order, each (status, ..., at); `notes` each (author, ..., written at)."""
        responded = None
        for step in steps:
            if step[0] != "new":
                responded = step[-1]
                break
        for note in notes:
            if note[0] != created_by and (responded is None or note[-1] < responded):
                responded = note[-1]
        scope = self._scopes.get((customer_id, priority))
        if scope is None:
            scope = self._scopes[(customer_id, priority)] = self._scope(customer_id, priority)
        spans = scope.spans
        if spans is None:
            return (scope.policy_id, None, responded, None, None, None, None, 0.0, None)
        # The resolution clock's standing still: each spell in a stopping status, in working
        # minutes, summed in history order; the last status stopping = paused since then.
        stops = scope.stops
        stopped = 0.0
        status, since = "new", created_at
        for step in steps:
            if status in stops:
                stopped += max(0, (_open_seconds(spans, step[-1]) - _open_seconds(spans, since)) / 60)
            status, since = step[0], step[-1]
        base = _open_seconds(spans, created_at)
        # Each target's instant: where the open-time total reaches it (the first span whose total
        # gets there); None beyond the stored spans.
        after, starts, before = spans.after, spans.starts, spans.before
        n = len(after)
        due = []
        for secs in (base + scope.response, base + scope.response_warn, base + (scope.resolution + stopped) * 60,
                     base + (scope.resolution_warn + stopped) * 60):
            i = bisect_left(after, ceil(secs))
            due.append(None if i == n else starts[i] + round((secs - before[i]) * 1e6))
        return (scope.policy_id, scope.calendar_id, responded, *due, stopped, since if status in stops else None)
