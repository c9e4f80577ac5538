"""Storms grouped, not dropped: when one rule fires for one user for several cases at once, the
user gets one reminder listing the cases (one toast, one e-mail with a table), while every
case keeps its own log row that can be opened, snoozed and acknowledged on its own.

Three engine steps (engine.py) and one kind:

    gather   after the claim: pending firings of the batch's rules due within the rule's
             `group_window_minutes` are pulled forward and claimed with the batch
    find     after sort_out: the rules with several firings in the batch whose window is on
             (or whose firings are the first run of a new global rule: always grouped); the claim
             returns each firing's window, so this reads nothing
    hold + group   inside write_logs' transaction: the insert trigger is told not to push the
             held events' rows one by one; after the write, per rule, user and channel, two or
             more rows become one group row (pushed / mailed) that the rows point at
             (`group_id`); a row alone for its user is pushed as usual
    storm    the kind of the group's queue event: it mails the group rows of channels that
             deliver later (e-mail), with retries like any summary
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from app.core.i18n import _, ngettext
from app.core.queries import load_queries
from app.modules.sag.reminders import channels
from app.modules.sag.reminders.email import SUMMARY_MAX_ITEMS, recipient_language, speaking
from app.modules.sag.reminders.events import Outcome, error_text, finish, retry
from app.modules.sag.reminders.events import Q as WQ

log = logging.getLogger("app.modules.sag")
Q = load_queries(Path(__file__).parent / "queries" / "storms.sql")
GROUPABLE = ("rule", "repeat")  # queue kinds of plain firings (snoozes go to one user, one case)
PRIORITY_ORDER = ("low", "normal", "high", "urgent")
MESSAGE_MAX_CHARS = 5000


@dataclass
class Storm:
    """Several firings of one rule in one batch that may reach a user as one reminder."""

    rule_id: int
    name: str
    event_ids: list[int] = field(default_factory=list)


def _groupable(row: dict[str, Any]) -> bool:
    return row["kind"] in GROUPABLE and row["reminder_id"] is not None


def gather(conn: psycopg.Connection, rows: list[dict[str, Any]]) -> int:
    """Pull forward the batch's rules' pending firings due within their window; returns how many.

    Status-change rules are left out: their firings are never queued ahead of time.
    """
    rule_ids = sorted({r["reminder_id"] for r in rows
                       if _groupable(r) and not (r["kind"] == "rule" and r["trigger_type"] == "status_change")})
    if not rule_ids:
        return 0
    with conn.transaction():
        return len(conn.execute(Q["gather_window"], {"rule_ids": rule_ids, "now": rows[0]["now"]}).fetchall())


def find(rows: list[dict[str, Any]], firing_ids: set[int]) -> dict[int, Storm]:
    """The rules with two or more rendered firings in the batch that are to be grouped: their window
    is on (the claim returns it with each firing), or they are the first run of a new global rule."""
    wanted = {r["reminder_id"] for r in rows
              if r["reminder_id"] is not None and ((r["group_window_minutes"] or 0) > 0
                                                   or (r["rule_sag_id"] is None and r["id"] in firing_ids
                                                       and (r["event_data"] or {}).get("first_run")))}
    if not wanted:  # the usual batch: nothing to group, no per-firing work
        return {}
    by_rule: dict[int, Storm] = {}
    cases: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        if row["reminder_id"] in wanted and row["id"] in firing_ids and _groupable(row):
            storm = by_rule.setdefault(row["reminder_id"], Storm(row["reminder_id"], row["rule_name"] or _("Reminder")))
            storm.event_ids.append(row["id"])
            cases[row["reminder_id"]].add(row["sag_id"])
    return {k: v for k, v in by_rule.items() if len(cases[k]) > 1}  # one case's news stays single


def hold(conn: psycopg.Connection, storms: dict[int, Storm]) -> None:
    """Inside the log write's transaction: its insert trigger leaves these events' rows unpushed."""
    ids = ",".join(str(i) for s in storms.values() for i in s.event_ids)
    conn.execute(Q["hold_pushes"], {"ids": ids})


def _title(name: str, n: int) -> str:
    """The group's title in the current language (the recipient's): the rule's name and the count."""
    return ngettext("%(name)s: %(num)s case", "%(name)s: %(num)s cases", n, name=name)[:500]


def _message(members: list[dict[str, Any]]) -> str:
    lines = [f"#{m['sag_id']} {m['case_title'] or ''}".rstrip() for m in members[:SUMMARY_MAX_ITEMS]]
    if len(members) > SUMMARY_MAX_ITEMS:
        lines.append(_("… and %(n)s more", n=len(members) - SUMMARY_MAX_ITEMS))
    return "\n".join(lines)[:MESSAGE_MAX_CHARS]


def _priority(members: list[dict[str, Any]]) -> str:
    return max((m["priority"] for m in members),
               key=lambda p: PRIORITY_ORDER.index(p) if p in PRIORITY_ORDER else 1)


def group(conn: psycopg.Connection, storms: dict[int, Storm], now: datetime) -> int:
    """After the write, same transaction: one group row per rule, user and channel with 2+ rows.

    Returns the number of grouped reminders made. A user who got only one row of the rule
    (a case of theirs among many of others) gets it pushed as it is.
    """
    event_ids = [i for s in storms.values() for i in s.event_ids]
    rows = conn.execute(Q["read_held_rows"], {"event_ids": event_ids}).fetchall()
    per_user: dict[tuple[int, int], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        per_user[(r["rule_id"], r["user_id"])][r["channel"]].append(r)
    singles: list[int] = []
    made = 0
    for (rule_id, user_id), by_channel in per_user.items():
        sets = {ch: ms for ch, ms in by_channel.items() if len({m["sag_id"] for m in ms}) > 1}
        singles += [m["id"] for ch, ms in by_channel.items() if ch not in sets for m in ms if m["status"] == "sent"]
        if not sets:
            continue
        n = max(len({m["sag_id"] for m in ms}) for ms in sets.values())
        later = any(ms[0]["status"] == "pending" for ms in sets.values())
        event_id = conn.execute(Q["insert_storm_event"], {
            "rule_id": rule_id, "user_id": user_id, "status": "pending" if later else "sent", "now": now,
            "data": Jsonb({"cases": n, "events": sorted({m["event_id"] for ms in sets.values() for m in ms})}),
        }).fetchone()["id"]
        for channel, members in sets.items():
            with speaking(recipient_language(members[0])):
                title = _title(storms[rule_id].name, len({m["sag_id"] for m in members}))
                message = _message(members)
            group_id = conn.execute(Q["insert_group_row"], {
                "event_id": event_id, "rule_id": rule_id, "user_id": user_id, "email": members[0]["email"],
                "channel": channel, "status": "pending" if members[0]["status"] == "pending" else "sent",
                "title": title, "message": message,
                "priority": _priority(members), "now": now}).fetchone()["id"]
            conn.execute(Q["join_group"], {"group_id": group_id, "ids": [m["id"] for m in members], "now": now})
        made += 1
    if singles:
        conn.execute(Q["push_single"], {"ids": singles})
    if made:
        log.info("reminders: %d grouped reminder(s) for %d firing(s)", made, len(event_ids))
    return made


def process_storm(conn: psycopg.Connection, row: dict[str, Any], now: datetime, opts: Any, out: Outcome) -> None:
    """A grouped reminder's channels that deliver later (e-mail): one message each, listing the cases."""
    registry = channels.registry()
    with conn.transaction():
        user = conn.execute(WQ["read_user_for_summary"], {"user_id": row["target_user_id"], "now": now}).fetchone()
        groups = conn.execute(Q["read_storm_groups"], {"event_id": row["id"]}).fetchall()
    first_error = None
    failed: list[int] = []
    for g in groups:
        channel = registry.get(g["channel"])
        if channel is None or user is None or not user["active"]:
            reason = "user inactive" if channel else f"channel {g['channel']} is not available"
            with conn.transaction():
                conn.execute(Q["record_group_result"], {"group_id": g["id"], "status": "failed", "error": reason,
                                                        "now": now})
            continue
        members = g["members"] if isinstance(g["members"], list) else json.loads(g["members"])
        try:
            with speaking(recipient_language(user)):
                intro = _("One rule fired for several of your cases at once. Each case is listed below and can "
                          "be acknowledged on its own in your reminder list.")
            error = channel.send_summary(user, channels.Summary(title=g["title"], intro=intro, items=members))
        except Exception as exc:  # noqa: BLE001 - a failing channel is retried like a refused send
            log.exception("reminder channel %s could not send a grouped reminder", g["channel"])
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            with conn.transaction():
                conn.execute(Q["record_group_result"], {"group_id": g["id"], "status": "sent", "error": None,
                                                        "now": now})
            out.handed_over[g["channel"]] += 1
        else:
            first_error = first_error or error_text(str(error))
            failed.append(g["id"])
    with conn.transaction():
        if first_error is None:
            finish(conn, [row["id"]], now)
        elif retry(conn, {row["id"]: first_error}, now, opts, out):
            for group_id in failed:
                conn.execute(Q["record_group_result"], {"group_id": group_id, "status": "failed",
                                                        "error": first_error, "now": now})
