"""SLA clocks of generated case stories, computed in Python (for the bulk generator, cases/bulk.py).

A generated case's whole life is known before it is written, so its clock can be written with
it (COPY) instead of recomputed by the server afterwards: sag_sla_refresh_cases over a million
cases is two to three minutes of one server core, this is a few microseconds per case in the
producer processes that generate the stories anyway.

The result must be the clock sag_sla_refresh (the case trigger) computes, to the microsecond:
the same rules (sla/functions/sag_sla_clock.sql) over the same stored spans, with the same
arithmetic. The span sums are exact decimals in PostgreSQL (extract(epoch ...) is numeric)
rounded once to a double, as integer microseconds divided once here; the targets are the same
double operations in the same order; make_interval rounds seconds * 1e6 half to even, as
round() does. cases/tests/test_cases_bulk.py compares both for generated cases on several
calendars and policies.
"""

from __future__ import annotations

import bisect
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import psycopg

from app.core.queries import load_queries

Q = load_queries(Path(__file__).parent / "queries" / "bulk_clocks.sql")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
US = 1_000_000


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
    since 1970, open seconds before and through each."""
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
        s.starts.append(r["start_us"])
        s.ends.append(r["end_us"])
        s.before.append(r["open_before"])
        s.after.append(r["open_after"])
    return ClockRules(policies, closed, customer_calendars, default["id"] if default else None, spans)


def microseconds(t: datetime) -> int:
    return (t - EPOCH) // ONE_US


def _instant(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def _open_seconds(s: Spans, t: int) -> float:
    """sag_open_seconds: open seconds before instant t (microseconds), counted from the first span."""
    i = bisect.bisect_right(s.starts, t) - 1
    if i < 0:
        return 0.0
    return (s.before[i] * US + max(0, min(t, s.ends[i]) - s.starts[i])) / US


def _reached(s: Spans, secs: float) -> datetime | None:
    """The instant the open-time total reaches `secs` (the first span whose total gets there);
    None beyond the stored spans."""
    i = bisect.bisect_left(s.after, math.ceil(secs))
    if i == len(s.after):
        return None
    return _instant(s.starts[i] + round((secs - s.before[i]) * 1e6))


def _at(row: tuple[str, datetime]) -> datetime:
    return row[1]


class Clocks:
    """Clock rows for many cases under one set of rules (the policy and calendar per customer and
    priority looked up once)."""

    def __init__(self, rules: ClockRules):
        self.rules = rules
        self._scope: dict[tuple[int | None, str], tuple[Policy | None, int | None]] = {}

    def _policy(self, customer_id: int | None, priority: str) -> tuple[Policy | None, int | None]:
        key = (customer_id, priority)
        found = self._scope.get(key)
        if found is None:
            r = self.rules
            # A case without a customer matches no customer's policy (customer_id = NULL is not true).
            policy = next((p for p in r.policies
                           if p.customer_id in (customer_id, None) and p.priority in (priority, None)), None)
            cal = None
            if policy is not None:
                cal = next((c for c in (policy.calendar_id, r.customer_calendars.get(customer_id), r.default_calendar)
                            if c is not None), None)
            found = self._scope[key] = (policy, cal)
        return found

    def clock(self, customer_id: int | None, priority: str, created_by: int | None, created_at: datetime,
              history: list[tuple[str, datetime]], notes: list[tuple[int | None, datetime]]) -> Clock:
        """The clock of a case: `history` the status rows in order, the creation's `new` first;
        `notes` (author, written at)."""
        # In time order, ties in the order given (the history's ORDER BY changed_at, id).
        history = sorted(history, key=_at)
        responded = next((at for status, at in history if status != "new"), None)
        for author, at in notes:
            if author != created_by and (responded is None or at < responded):
                responded = at
        policy, cal = self._policy(customer_id, priority)
        if policy is None:
            return (None, None, responded, None, None, None, None, 0.0, None)
        if cal is None:
            return (policy.id, None, responded, None, None, None, None, 0.0, None)
        spans = self.rules.spans.get(cal)
        if spans is None:
            spans = Spans([], [], [], [])
        stops = self.rules.closed | policy.pause
        stopped = 0.0
        paused_since = None
        last = len(history) - 1
        for i, (status, at) in enumerate(history):
            if status in stops:
                if i == last:
                    paused_since = at
                else:
                    stopped += max(0, (_open_seconds(spans, microseconds(history[i + 1][1]))
                                       - _open_seconds(spans, microseconds(at))) / 60)
        base = _open_seconds(spans, microseconds(created_at))
        response, resolution, percent = policy.response_minutes, policy.resolution_minutes, policy.warning_percent
        return (policy.id, cal, responded,
                _reached(spans, base + float(response) * 60),
                _reached(spans, base + (response * percent / 100) * 60),
                _reached(spans, base + (resolution + stopped) * 60),
                _reached(spans, base + (resolution * percent / 100 + stopped) * 60),
                stopped, paused_since)
