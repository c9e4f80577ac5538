"""Rule preview: which cases a rule would fire for, for whom, on which channel and when,
over the next days, without writing anything. It uses the worker's SQL functions
(recipient resolution, preferences, quiet hours, working-time offsets, SLA thresholds,
opening hours) and the rule validation of the API; times are explained in words
(preview_times.py)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb

from app.core import database
from app.core.config import get_settings
from app.core.i18n import _
from app.core.queries import load_queries
from app.modules.sag.reminders import channels, preview_times
from app.modules.sag.reminders.render import ReminderTemplateError, render_event
from app.modules.sag.reminders.rules import cron_runs, lookahead, parse_when, validate_rule

Q = load_queries(Path(__file__).parent / "queries" / "admin.sql")
PREVIEW_DAYS = 7
MAX_CASES = 50
MAX_RUNS = 50
MAX_FIRINGS = 200


def _case_rows(rule: dict[str, Any], now: datetime, until: datetime) -> list[dict[str, Any]]:
    cfg, sag_id = rule["trigger_config"], rule["sag_id"]
    if rule["trigger_type"] == "deadline":
        return database.execute_query(Q["preview_deadline_cases"], {
            "sag_id": sag_id, "now": now, "until": until, "config": Jsonb(cfg), "limit": MAX_FIRINGS})
    if rule["trigger_type"] == "inactivity":
        return database.execute_query(Q["preview_inactive_cases"], {
            "sag_id": sag_id, "now": now, "until": until, "config": Jsonb(cfg), "limit": MAX_FIRINGS})
    if rule["trigger_type"] == "sla":
        rows = database.execute_query(Q["preview_sla_cases"], {
            "sag_id": sag_id, "target": cfg["target"], "thresholds": cfg["thresholds"], "limit": MAX_FIRINGS})
        # As sag_schedule_sla plans them: not for a met or paused target; a passed instant fires
        # at once while the target is not yet breached.
        return [dict(r, at=max(r["at"], now)) for r in rows
                if r["reason"] is None and r["at"] is not None and r["at"] <= until
                and (r["at"] >= now or r["due_at"] > now)]
    cases = database.execute_query(Q["preview_cases"], {"sag_id": sag_id, "limit": MAX_CASES})
    if rule["trigger_type"] == "status_change":
        return [dict(c, at=None) for c in cases if c["closed_at"] is None or rule["sag_id"] is not None]
    if rule["trigger_type"] == "scheduled":
        at = parse_when(cfg["at"], "at")
        times = [at] if now <= at <= until else []
    else:
        end = parse_when(cfg["until"], "until") if cfg.get("until") else None
        times = cron_runs(cfg["cron"], cfg.get("timezone") or get_settings().timezone, now, until, end, MAX_RUNS)
    open_cases = [c for c in cases if c["closed_at"] is None]
    return [dict(c, at=t) for t in times for c in open_cases][:MAX_FIRINGS]


def _held(rule: dict[str, Any], cases: list[dict[str, Any]], now: datetime) -> None:
    """Mark the firings a rule that delivers only within opening hours would hold, and until when."""
    times = [c["at"] or now for c in cases]
    if not times:
        return
    opens = database.execute_query(Q["preview_closed_until"], {
        "calendar": rule["opening_hours_calendar"], "times": times})
    for row in opens:
        cases[row["ord"] - 1]["held_until"] = row["opens_at"]


def _status_note(rule: dict[str, Any], case: dict[str, Any]) -> str:
    frm, to = rule["trigger_config"]["from"], rule["trigger_config"]["to"]
    if frm != "any" and case["status"] != frm:
        return _("fires when the case moves from %(from)s to %(to)s (it is %(now)s now)", to=to, now=case["status"],
                 **{"from": frm})
    return _("fires on the next change from %(from)s to %(to)s", to=to,
             **{"from": case["status"] if frm == "any" else frm})


def _outcome(r: dict[str, Any]) -> str:
    if not r["enabled"]:
        return "suppressed"
    if r["quiet_until"] is not None:
        return "deferred"
    return "send"


def preview_rule(body: dict[str, Any], timezone: str | None = None) -> dict[str, Any]:
    now = database.execute_query("SELECT now() AS now")[0]["now"]
    rule = validate_rule(body, now, tz=timezone)
    tz = preview_times.zone(timezone)
    until = lookahead(now, PREVIEW_DAYS)
    cases = _case_rows(rule, now, until)
    if rule["deliver_in_opening_hours"]:
        _held(rule, cases, now)
    firings = [{"sag_id": c["id"], "at": c["at"].isoformat() if c["at"] else None} for c in cases]
    rows = database.execute_query(Q["preview_recipients"], {
        "firings": json.dumps(firings), "recipients": Jsonb(rule["recipients"]),
        "channels": channels.sql_param({n: c for n, c in channels.registry().items() if n in rule["channels"]}),
        "trigger_type": rule["trigger_type"]}) if firings else []
    by_firing: dict[int, dict[Any, dict[str, Any]]] = {}
    for r in rows:
        key = r["user_id"] or r["email"]
        who = by_firing.setdefault(r["ord"], {}).setdefault(key, {
            "user_id": r["user_id"], "name": r["name"] or r["email"], "email": r["email"] if not r["user_id"] else None,
            "channels": {}})
        who["channels"][r["channel"]] = {"outcome": _outcome(r), "deferred_until": r["quiet_until"]}
    out = []
    for i, c in enumerate(cases, start=1):
        sample = {"sag_id": c["id"], "case_title": c["title"], "status": c["status"], "kind": "rule",
                  "trigger_type": rule["trigger_type"], "rule_name": rule["name"],
                  "title_template": rule["title_template"], "message_template": rule["message_template"],
                  "deadline": c.get("deadline"),
                  "event_data": ({"target": rule["trigger_config"]["target"], "percent": c["percent"],
                                  "due_at": c["due_at"], "fire_at": c["at"]} if rule["trigger_type"] == "sla"
                                 else {})}
        try:
            title, _message = render_event(sample)
        except ReminderTemplateError as exc:
            title = f"(template error: {exc})"
        item = {"sag_id": c["id"], "case_title": c["title"], "at": c["at"], "title": title,
                "recipients": list(by_firing.get(i, {}).values())}
        if rule["trigger_type"] == "status_change":
            item["note"] = _status_note(rule, c)
        else:
            item["when"] = preview_times.when_text(rule, c, now, tz)
        if rule["trigger_type"] == "sla":
            item.update(target=rule["trigger_config"]["target"], threshold=c["percent"], due_at=c["due_at"])
        if c.get("held_until") is not None:
            item["held_until"] = c["held_until"]
            for who in item["recipients"]:
                if who["user_id"] is not None:
                    for outcome in who["channels"].values():
                        if outcome["outcome"] != "suppressed":
                            outcome.update(outcome="held", deferred_until=max(
                                c["held_until"], outcome["deferred_until"] or c["held_until"]))
        out.append(item)
    return {
        "now": now, "until": until, "trigger_type": rule["trigger_type"], "next_run_at": rule["next_run_at"],
        "firings": out, "truncated": len(cases) >= MAX_FIRINGS or (rule["sag_id"] is None and len(cases) >= MAX_CASES
                                                                   and rule["trigger_type"] == "status_change"),
        "notes": [_("Recipients are resolved when a reminder fires; the hourly limit may hold some back.")],
    }
