"""What the bulk generator writes: realistic case stories as plain tuples (no database).

A `CasePlan` is everything a case's life consists of as the app would have recorded it --
who opened it when, each status change (by whom, with which reason, when) and the notes
written on it. `derive()` turns a plan into the values the database triggers would have
written (closed_at, version, updated_at), so bulk.py can write them
directly. Cases span several years: old ones are closed, a few stale ones are still open,
and the recent ones are mostly open with deadlines overdue, due soon, later or none.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from app.modules.sag.cases.demo import case_text
from app.modules.sag.cases.demo_text import DEVICES, FIRST_NAMES, PLACES, STATUS_NOTES

# The statuses of the base schema that close a case (sag_statuses.is_closed).
CLOSED = frozenset({"resolved", "closed"})
OPEN_FINALS = ("new", "in_progress", "waiting_customer", "on_hold")
OPEN_WEIGHTS = (20, 45, 22, 13)
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_WEIGHTS = (15, 55, 22, 8)
# How far back the bulk cases go, days; cases younger than RECENT_DAYS are open at RECENT_OPEN_SHARE,
# older ones at STALE_OPEN_SHARE (forgotten cases every helpdesk has).
HISTORY_DAYS = 5 * 365
RECENT_DAYS = 30
RECENT_OPEN_SHARE = 0.5
STALE_OPEN_SHARE = 0.02
# How long a closed case took, hours (log-uniform between these).
RESOLVE_MIN_H = 0.5
RESOLVE_MAX_H = 24 * 40
# Notes per case: 0..MAX_NOTES, weighted towards a couple.
NOTE_COUNT_WEIGHTS = (20, 30, 28, 14, 8)
NOTE_VIA = ("web", "api", "email")
NOTE_VIA_WEIGHTS = (85, 10, 5)
# Instants and durations of a story, in microseconds.
HOUR = 3600 * 1_000_000
DAY = 24 * HOUR
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
# Distinct (title, description) and note texts to draw from: enough variety for search, computed once.
TEXT_POOL = 5000

NOTE_TEXTS = (
    "Har ringet til {name}, aftalt fjernsupport kl. 13.",
    "Kunden bekræfter at fejlen stadig opstår på {device}.",
    "Genstartet tjenesten og ryddet cache; overvåger i dag.",
    "Bestilt reservedel hos leverandøren, forventet levering i morgen.",
    "Tjekket loggen: samme fejl i {place} siden mandag.",
    "Opdateret driver og firmware, testet med {name}.",
    "Sendt vejledning til kunden pr. mail.",
    "Eskaleret til leverandørens support, sagsnummer {n}.",
    "Virker igen efter omstart af switchen i {place}.",
    "Aftalt besøg på adressen torsdag formiddag.",
    "Kunden har ikke svaret; rykket igen i dag.",
    "Dokumentation opdateret i kundens IT-mappe.",
)


class CasePlan(NamedTuple):
    """A case's story. Every instant is whole microseconds since 2000-01-01 UTC (`micros`), which
    is how PostgreSQL stores a timestamptz: COPY writes them as they are, and the story's
    arithmetic (this runs a million times) is on plain integers instead of datetimes."""
    title: str
    description: str
    customer_id: int | None
    priority: str
    assigned_to: int | None
    created_by: int
    deadline: int | None
    created_at: int
    # (status, actor user id, reason or None, when), in time order, each a real change.
    steps: tuple[tuple[str, int | None, str | None, int], ...]
    # (author user id, body, via, when), in time order.
    notes: tuple[tuple[int, str, str, int], ...]


def micros(at: datetime) -> int:
    """An instant as a CasePlan holds it: microseconds since 2000-01-01 UTC (exact)."""
    return (at - PG_EPOCH) // ONE_US


class Derived(NamedTuple):
    status: str
    closed_at: int | None
    version: int
    updated_at: int


def derive(plan: CasePlan) -> Derived:
    """What the triggers make of a plan (cases/functions/sag_track_status.sql): closed_at is the
    first close since the case was last open, version counts the changes, updated_at is the
    last change (notes count: a note bumps the case). The SLA clock: sla/bulk_clocks.py."""
    status, closed_at = "new", None
    for step_status, _actor, _note, at in plan.steps:
        status = step_status
        if step_status in CLOSED:
            closed_at = closed_at or at
        else:
            closed_at = None
    last = plan.steps[-1][3] if plan.steps else plan.created_at
    if plan.notes and plan.notes[-1][3] > last:
        last = plan.notes[-1][3]
    return Derived(status, closed_at, 1 + len(plan.steps), last)


def text_pool(rng: random.Random, size: int = TEXT_POOL) -> list[tuple[str, str]]:
    return [case_text(rng) for _ in range(size)]


def _paths(final: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The statuses after `new` that lead to `final`: straight, and with a round via the customer."""
    if final == "new":
        return (), ()
    tail = ((final,) if final in ("waiting_customer", "on_hold") else ()) + \
        (("resolved",) if final in CLOSED else ()) + (("closed",) if final == "closed" else ())
    return ("in_progress", *tail), ("in_progress", "waiting_customer", "in_progress", *tail)


# A path's share with a round via the customer (waiting for an answer, then work again).
CUSTOMER_ROUND_SHARE = 0.3
_PATHS = {final: _paths(final) for final in (*OPEN_FINALS, *CLOSED)}


def _deadline(is_open: bool, created: int, now: int, r) -> int | None:
    """Closed cases had one in their time, open ones are overdue, due soon, later or none."""
    if not is_open:
        return created + int(DAY * (1 + 13 * r())) if r() < 0.6 else None
    roll = r()
    if roll < 0.30:
        return now - int(HOUR * (2 + 238 * r()))
    if roll < 0.45:
        return now + int(HOUR * (1 + 21 * r()))
    if roll < 0.80:
        return now + int(DAY * (2 + 28 * r()))
    return None


def note_pool(rng: random.Random, size: int = TEXT_POOL) -> list[str]:
    return [rng.choice(NOTE_TEXTS).format(name=rng.choice(FIRST_NAMES), device=rng.choice(DEVICES),
                                          place=rng.choice(PLACES), n=rng.randint(100000, 999999))
            for _ in range(size)]


def _weighted(values, weights):
    """Table of `values` by integer `weights`: table[int(x * len(table))] for a uniform [0, 1)
    number picks each value at its weight (one index instead of rng.choices)."""
    return tuple(v for v, w in zip(values, weights, strict=True) for _ in range(w))


_OPEN_FINAL = _weighted(OPEN_FINALS, OPEN_WEIGHTS)
_PRIORITY = _weighted(PRIORITIES, PRIORITY_WEIGHTS)
_NOTE_COUNT = _weighted(range(len(NOTE_COUNT_WEIGHTS)), NOTE_COUNT_WEIGHTS)
_VIA = _weighted(NOTE_VIA, NOTE_VIA_WEIGHTS)
_STATUS_NOTES = {status: tuple(STATUS_NOTES.get(status, (None,))) for paths in _PATHS.values()
                 for status in paths[1]}
_RESOLVE_RATIO = RESOLVE_MAX_H / RESOLVE_MIN_H


def random_plan(rng: random.Random, now: int, users: list[int], customers: list[int],
                texts: list[tuple[str, str]], notes: list[str]) -> CasePlan:
    """One realistic case story ending before `now` (microseconds, as CasePlan)."""
    r = rng.random
    n_users = len(users)
    age_days = 0.05 + (HISTORY_DAYS - 0.05) * r()
    created = now - int(DAY * age_days)
    is_open = r() < (RECENT_OPEN_SHARE if age_days < RECENT_DAYS else STALE_OPEN_SHARE)
    final = _OPEN_FINAL[int(r() * len(_OPEN_FINAL))] if is_open else ("closed" if r() < 0.7 else "resolved")
    creator = users[int(r() * n_users)]
    assignee = None if (final == "new" and r() < 0.5) or r() < 0.03 else users[int(r() * n_users)]
    straight, round_trip = _PATHS[final]
    statuses = round_trip if straight and r() < CUSTOMER_ROUND_SHARE else straight
    end = now if is_open else min(now, created + int(HOUR * RESOLVE_MIN_H * _RESOLVE_RATIO ** r()))
    span = end - created
    times = sorted([created + int((0.02 + 0.96 * r()) * span) for _ in statuses])
    steps = []
    for status, at in zip(statuses, times):  # noqa: B905 - as many times as statuses, made above
        actor = assignee if assignee is not None and r() < 0.8 else users[int(r() * n_users)]
        reasons = _STATUS_NOTES[status]
        steps.append((status, actor, reasons[int(r() * len(reasons))], at))
    n_notes = _NOTE_COUNT[int(r() * len(_NOTE_COUNT))]
    plan_notes = ()
    if n_notes:
        note_span = (times[-1] if times else end) - created
        plan_notes = tuple([
            (assignee if assignee is not None and r() < 0.6 else users[int(r() * n_users)],
             notes[int(r() * len(notes))], _VIA[int(r() * len(_VIA))], at)
            for at in sorted([created + int((0.01 + 0.98 * r()) * note_span) for _ in range(n_notes)])])
    title, description = texts[int(r() * len(texts))]
    deadline = _deadline(is_open, created, now, r)
    customer = customers[int(r() * len(customers))] if customers and r() < 0.97 else None
    return CasePlan(title, description, customer, _PRIORITY[int(r() * len(_PRIORITY))], assignee, creator,
                    deadline, created, tuple(steps), plan_notes)
