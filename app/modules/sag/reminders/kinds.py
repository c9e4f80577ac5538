"""The table of reminder event kinds: where each comes from, when it is skipped, how it is
rendered or which handler of its own it goes through.

An event's kind is its queue `kind`, except that a plain rule firing (`kind = 'rule'`) is
known by its rule's trigger type (status_change, scheduled, deadline, recurring, inactivity, sla).
engine.py looks every claimed event up here; an event whose kind has no entry is failed with
that reason. Adding a kind = its producer (a trigger, a function or a handler that queues it)
plus one entry in KINDS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from app.core.config import get_settings
from app.core.i18n import lazy_gettext as _l
from app.modules.sag.conversation import mentions
from app.modules.sag.reminders import opening_hours, storms, summaries
from app.modules.sag.reminders.events import Outcome, Q, finish
from app.modules.sag.reminders.render import render_event
from app.modules.sag.reminders.rules import next_cron_run, parse_when

Row = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    key: str
    label: Any  # shown translated (lazy_gettext): the queue page names an event's kind
    source: str  # what queues events of this kind
    skip: Callable[[Row], str | None]  # the reason not to deliver it now, or None
    render: Callable[[Row], tuple[str, str]] | None = None  # batch path: (title, message) of the firing
    handler: Callable[..., None] | None = None  # own path: handler(conn, row, now, opts, out)
    escalates: Callable[[Row], bool] = lambda row: False  # add the rule's escalation role
    next_run: Callable[[psycopg.Connection, Row, datetime], datetime | None] | None = None  # time-based rules

    def __post_init__(self) -> None:
        if (self.render is None) == (self.handler is None):
            raise ValueError(f"event kind {self.key!r}: give either render (batch path) or handler")


# --- skip rules -------------------------------------------------------------------------

def _rule_gone(row: Row) -> str | None:
    if row["reminder_id"] is None or row["rule_active"] is None:
        return "rule deleted"
    if not row["rule_active"]:
        return "rule inactive"
    return None


def _case_gone(row: Row) -> str | None:
    if row["sag_id"] is None or row["case_title"] is None:
        return "case deleted"
    return None


def _firing(row: Row) -> str | None:
    """A rule firing for an open case."""
    reason = _rule_gone(row) or _case_gone(row)
    if reason is None and row["closed_at"] is not None:
        return "case closed"
    return reason


def _status_firing(row: Row) -> str | None:
    """A status change is news even when it closes the case."""
    return _rule_gone(row) or _case_gone(row)


def _deadline_firing(row: Row) -> str | None:
    reason = _firing(row)
    planned = (row["event_data"] or {}).get("deadline")
    if reason is None and planned and (row["deadline"] is None or parse_when(planned, "deadline") != row["deadline"]):
        return "deadline changed"
    return reason


def _snooze(row: Row) -> str | None:
    """A snoozed reminder comes back as its rule would fire: a status-change one even for a closed case."""
    return _status_firing(row) if row["trigger_type"] == "status_change" else _firing(row)


def _never(row: Row) -> str | None:
    return None


def _past_escalation(row: Row) -> bool:
    occurrence = int((row["event_data"] or {}).get("occurrence", 1))
    return row["escalate_after"] is not None and occurrence > row["escalate_after"]


# --- time-based rules: the tick --------------------------------------------------------

def _next_recurring(conn: psycopg.Connection, row: Row, now: datetime) -> datetime | None:
    cfg = row["trigger_config"] or {}
    until = parse_when(cfg["until"], "until") if cfg.get("until") else None
    return next_cron_run(cfg["cron"], cfg.get("timezone") or get_settings().timezone,
                         max(now, row["scheduled_for"]), until)


def _next_inactivity(conn: psycopg.Connection, row: Row, now: datetime) -> datetime | None:
    return conn.execute(Q["next_inactivity_run"], {"rule_id": row["reminder_id"], "now": now}).fetchone()["next_run_at"]


def _once(conn: psycopg.Connection, row: Row, now: datetime) -> datetime | None:
    return None


def process_tick(conn: psycopg.Connection, row: Row, now: datetime, opts: Any, out: Outcome) -> None:
    """Fan a time-based rule out to its cases (one firing each), then set its next tick."""
    kind = KINDS.get(row["trigger_type"])
    if kind is None or kind.next_run is None:
        raise ValueError(f"a tick of trigger type {row['trigger_type']!r}, which has no next_run in kinds.py")
    with conn.transaction():
        prev = (row["event_data"] or {}).get("prev")
        # The first run of a new global rule is always delivered grouped (storms.py).
        first_run = row["rule_last_run_at"] is None and row["rule_sag_id"] is None
        conn.execute(Q["expand_tick"], {"tick_id": row["id"], "rule_id": row["reminder_id"], "now": now,
                                        "prev": prev, "first_run": first_run})
        conn.execute(Q["advance_rule"], {"rule_id": row["reminder_id"], "now": now,
                                         "next_run_at": kind.next_run(conn, row, now)})
        finish(conn, [row["id"]], now)


# --- the table ---------------------------------------------------------------------------

KINDS: dict[str, Kind] = {k.key: k for k in (
    Kind("status_change", _l("Status change"),
         "the case trigger (sag_cases_reminders) writes the inbox; the claim moves it into the queue",
         skip=_status_firing, render=render_event),
    Kind("scheduled", _l("At a set time"), "a tick of the rule, fanned out to its open cases",
         skip=_firing, render=render_event, next_run=_once),
    Kind("deadline", _l("Before the deadline"),
         "sag_schedule_deadlines, at deadline - offset (re-planned when the deadline or the rule changes)",
         skip=_deadline_firing, render=render_event),
    Kind("recurring", _l("Recurring"), "a tick of the rule (cron in a time zone), fanned out to its open cases",
         skip=_firing, render=render_event, next_run=_next_recurring),
    Kind("inactivity", _l("No update for N days"), "a tick of the rule, fanned out to the cases that went quiet",
         skip=_firing, render=render_event, next_run=_next_inactivity),
    Kind("sla", _l("SLA targets"),
         "sag_schedule_sla, at each threshold's share of a response or resolution target in working time "
         "(re-planned when the case's SLA clock moves, pauses or is met; sag_sla_thresholds: once each)",
         skip=_firing, render=render_event),
    Kind("repeat", _l("Re-reminder"), "deliver_batch, every N hours until acknowledged (may escalate to a role)",
         skip=_firing, render=render_event, escalates=_past_escalation),
    Kind("snooze", _l("Snoozed reminder"), "a user's snooze; it comes back to that user only",
         skip=_snooze, render=render_event),
    Kind("tick", _l("Clock of a time-based rule"), "the rule trigger (sag_reminders_schedule) at next_run_at",
         skip=_rule_gone, handler=process_tick),
    Kind("digest", _l("Quiet-hours digest"), "deliver_batch, when a row is deferred: due when the quiet hours end",
         skip=_never, handler=summaries.process_digest),
    Kind("mention", _l("Mention"), "the sag_notes trigger, on a new note or an edit of its text; the handler "
         "parses @mentions and delivers through the batch path (conversation/mentions.py)",
         skip=_never, handler=mentions.process_mention),
    Kind("watch", _l("Watched case"), "the sag_notes trigger (a new note) and the sag_sager status trigger; the "
         "handler picks the case's watchers (conversation/mentions.py)", skip=_never, handler=mentions.process_watch),
    Kind("held_back", _l("Held-back notice"), "deliver_batch, when the hourly limit holds a row back: due at the "
         "window's end", skip=_never, handler=summaries.process_held_back),
    Kind("opening", _l("Held until opening hours"), "deliver_batch, when a rule that delivers only within opening "
         "hours fires while its calendar is closed: due when it opens", skip=_never,
         handler=opening_hours.process_opening),
    Kind("storm", _l("Grouped reminder"), "write_logs (storms.group), when a rule fires for one user for several "
         "cases at once: mails the group's one message", skip=_never, handler=storms.process_storm),
)}


def key_of(row: Row) -> str:
    return row["trigger_type"] if row["kind"] == "rule" else row["kind"]


def kind_of(row: Row) -> Kind | None:
    return KINDS.get(key_of(row))
