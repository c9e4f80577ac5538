"""What the bulk generator writes: realistic case stories as plain tuples (no database).

A `CasePlan` is everything a case's life consists of as the app would have recorded it --
who opened it when, each status change (by whom, with which reason, when) and the notes
written on it. `derive()` turns a plan into the values the database triggers would have
written (closed_at, version, updated_at), so bulk.py can write them
directly. Cases span several years: old ones are closed, a few stale ones are still open,
and the recent ones are mostly open with deadlines overdue, due soon, later or none.
"""

from __future__ import annotations

import bisect
import itertools
import random
from datetime import UTC, datetime
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
HOUR = 3600.0
DAY = 24 * HOUR
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
    title: str
    description: str
    customer_id: int | None
    priority: str
    assigned_to: int | None
    created_by: int
    deadline: datetime | None
    created_at: datetime
    # (status, actor user id, reason or None, when), in time order, each a real change.
    steps: tuple[tuple[str, int | None, str | None, datetime], ...]
    # (author user id, body, via, when), in time order.
    notes: tuple[tuple[int, str, str, datetime], ...]


class Derived(NamedTuple):
    status: str
    closed_at: datetime | None
    version: int
    updated_at: datetime


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


def _path_to(final: str, r) -> list[str]:
    """The statuses after `new` that lead to `final` (sometimes a round via the customer)."""
    if final == "new":
        return []
    path = ["in_progress"]
    if r() < 0.3:
        path += ["waiting_customer", "in_progress"]
    if final in ("waiting_customer", "on_hold"):
        path.append(final)
    if final in CLOSED:
        path.append("resolved")
    if final == "closed":
        path.append("closed")
    return path


def _deadline(is_open: bool, created: float, now: float, r) -> float | None:
    """Epoch seconds: closed cases had one in their time, open ones are overdue, due soon, later or none."""
    if not is_open:
        return created + DAY * (1 + 13 * r()) if r() < 0.6 else None
    roll = r()
    if roll < 0.30:
        return now - HOUR * (2 + 238 * r())
    if roll < 0.45:
        return now + HOUR * (1 + 21 * r())
    if roll < 0.80:
        return now + DAY * (2 + 28 * r())
    return None


def note_pool(rng: random.Random, size: int = TEXT_POOL) -> list[str]:
    return [rng.choice(NOTE_TEXTS).format(name=rng.choice(FIRST_NAMES), device=rng.choice(DEVICES),
                                          place=rng.choice(PLACES), n=rng.randint(100000, 999999))
            for _ in range(size)]


def _weighted(values, weights):
    """A picker of one of `values` by `weights`, given a uniform [0, 1) number (faster than rng.choices)."""
    total = sum(weights)
    bounds = list(itertools.accumulate(w / total for w in weights))
    return lambda x: values[min(bisect.bisect(bounds, x), len(values) - 1)]


_open_final = _weighted(OPEN_FINALS, OPEN_WEIGHTS)
_priority = _weighted(PRIORITIES, PRIORITY_WEIGHTS)
_note_count = _weighted(range(len(NOTE_COUNT_WEIGHTS)), NOTE_COUNT_WEIGHTS)
_via = _weighted(NOTE_VIA, NOTE_VIA_WEIGHTS)
_STATUS_NOTES = {k: tuple(v) for k, v in STATUS_NOTES.items()}


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def random_plan(rng: random.Random, now: datetime, users: list[int], customers: list[int],
                texts: list[tuple[str, str]], notes: list[str]) -> CasePlan:
    """One realistic case story ending before `now` (times computed as epoch seconds: this runs
    a million times, and plain float arithmetic is several times cheaper than datetime's)."""
    r = rng.random
    now_s = now.timestamp()
    age_days = 0.05 + (HISTORY_DAYS - 0.05) * r()
    created = now_s - DAY * age_days
    is_open = r() < (RECENT_OPEN_SHARE if age_days < RECENT_DAYS else STALE_OPEN_SHARE)
    final = _open_final(r()) if is_open else ("closed" if r() < 0.7 else "resolved")
    creator = users[int(r() * len(users))]
    assignee = None if (final == "new" and r() < 0.5) or r() < 0.03 else users[int(r() * len(users))]
    statuses = _path_to(final, r)
    end = now_s if is_open else min(now_s, created + HOUR * RESOLVE_MIN_H * (RESOLVE_MAX_H / RESOLVE_MIN_H) ** r())
    span = end - created
    times = sorted(created + (0.02 + 0.96 * r()) * span for _ in statuses)
    steps = []
    for status, at in zip(statuses, times, strict=True):
        actor = assignee if assignee is not None and r() < 0.8 else users[int(r() * len(users))]
        reasons = _STATUS_NOTES.get(status, (None,))
        steps.append((status, actor, reasons[int(r() * len(reasons))], _at(at)))
    last = times[-1] if times else end
    note_span = last - created
    note_times = sorted(created + (0.01 + 0.98 * r()) * note_span for _ in range(_note_count(r())))
    plan_notes = tuple(
        (assignee if assignee is not None and r() < 0.6 else users[int(r() * len(users))],
         notes[int(r() * len(notes))], _via(r()), _at(at))
        for at in note_times)
    title, description = texts[int(r() * len(texts))]
    deadline = _deadline(is_open, created, now_s, r)
    return CasePlan(title, description, customers[int(r() * len(customers))] if customers and r() < 0.97 else None,
                    _priority(r()), assignee, creator, None if deadline is None else _at(deadline), _at(created),
                    tuple(steps), plan_notes)
