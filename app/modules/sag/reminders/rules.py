"""Reminder rules: their validation, and the schedule they imply.

Validation turns a body (rule_bodies.py) into the row the database stores (normalised trigger
config, `next_run_at` for time-based rules). The database triggers then queue the events.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter
from pydantic import BaseModel

from app.core import database, i18n
from app.core.config import get_settings
from app.core.errors import ValidationFailed
from app.modules.sag.reminders import channels as channel_registry
from app.modules.sag.reminders.render import ReminderTemplateError, check_template
from app.modules.sag.reminders.rule_bodies import DEFAULT_GROUP_WINDOW_MIN, EMAIL_RE
from app.modules.sag.reminders.trigger_configs import (
    CALENDAR_NAME_MAX,
    MAX_INACTIVITY_DAYS,
    MAX_INACTIVITY_HOURS,
    MAX_OFFSET_DAYS,
    MAX_OFFSET_MINUTES,
    MAX_SLA_THRESHOLDS,
    SLA_TARGETS,
)


def _fail(message: str, field: str) -> None:
    raise ValidationFailed(message, field=field)


def parse_when(value: Any, field: str, tz: str | None = None) -> datetime:
    """An ISO datetime; a value without offset is read in `tz` (default: the hub's zone)."""
    if not isinstance(value, str) or len(value) > 64:
        _fail(f"{field} must be an ISO date-time such as 2026-05-01T08:00:00+02:00", field)
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        _fail(f"{field} is not a valid ISO date-time: {value!r}", field)
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone(tz or get_settings().timezone, field))
    return when.astimezone(UTC)


def zone(name: Any, field: str = "timezone") -> ZoneInfo:
    if not isinstance(name, str) or not name or len(name) > 64:
        _fail("timezone must be an IANA zone name such as Europe/Copenhagen", field)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        _fail(f"unknown time zone {name!r}", field)


def next_cron_run(cron: str, tz: str, after: datetime, until: datetime | None = None) -> datetime | None:
    """The first occurrence of `cron` in zone `tz` strictly after `after`, or None past `until`."""
    local = after.astimezone(ZoneInfo(tz))
    nxt = croniter(cron, local).get_next(datetime).astimezone(UTC)
    if until is not None and nxt > until:
        return None
    return nxt


def cron_runs(cron: str, tz: str, after: datetime, before: datetime, until: datetime | None,
              limit: int) -> list[datetime]:
    """Occurrences in (after, before], at most `limit`."""
    it = croniter(cron, after.astimezone(ZoneInfo(tz)))
    runs: list[datetime] = []
    while len(runs) < limit:
        nxt = it.get_next(datetime).astimezone(UTC)
        if nxt > before or (until is not None and nxt > until):
            break
        runs.append(nxt)
    return runs


def calendar_name(value: Any, field: str) -> str:
    """A calendar named in a rule, as stored: 'default', or the calendar's own spelling of its name."""
    if not isinstance(value, str) or not value.strip() or len(value) > CALENDAR_NAME_MAX:
        _fail(f"{field} must be a calendar's name or 'default'", field)
    if value.strip().lower() == "default":
        if not database.execute_query("SELECT 1 FROM sag_calendars WHERE is_default"):
            _fail("there is no default calendar yet: create one under Admin, Business-hours calendars", field)
        return "default"
    found = database.execute_query("SELECT name FROM sag_calendars WHERE lower(name) = lower(%s)", (value.strip(),))
    if not found:
        names = [r["name"] for r in database.execute_query("SELECT name FROM sag_calendars ORDER BY name LIMIT 20")]
        _fail(f"unknown calendar {value.strip()[:80]!r} (known: {', '.join(names) or 'none'}; or 'default')", field)
    return found[0]["name"]


def _known_statuses() -> set[str]:
    return {r["key"] for r in database.execute_query("SELECT key FROM sag_statuses")}


def _int_field(cfg: dict, key: str, low: int, high: int, what: str) -> int:
    value = cfg.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(f"trigger_config.{key} must be a whole number ({what})", f"trigger_config.{key}")
    if value < low or value > high:
        _fail(f"trigger_config.{key} must be between {low} and {high} ({what})", f"trigger_config.{key}")
    return value


def normalise_trigger(trigger_type: str, cfg: dict[str, Any], now: datetime,
                      tz: str | None = None) -> tuple[dict, datetime | None]:
    """(stored trigger_config, next_run_at) for a trigger; raises ValidationFailed.

    `tz` is the acting user's zone: a scheduled `at` without offset is read in it (as the
    cases API reads a deadline), default the hub's zone.
    """
    if not isinstance(cfg, dict):
        _fail("trigger_config must be an object", "trigger_config")
    if trigger_type == "status_change":
        unknown = set(cfg) - {"from", "to"}
        if unknown:
            _fail(f"unknown trigger_config keys for status_change: {', '.join(sorted(unknown))}", "trigger_config")
        statuses = _known_statuses()
        out = {}
        for key in ("from", "to"):
            value = cfg.get(key, "any")
            if not isinstance(value, str) or (value != "any" and value not in statuses):
                _fail(f"trigger_config.{key} must be 'any' or one of: {', '.join(sorted(statuses))}",
                      f"trigger_config.{key}")
            out[key] = value
        if out["from"] != "any" and out["from"] == out["to"]:
            _fail("trigger_config.from and .to are the same status; that change never happens", "trigger_config")
        return out, None
    if trigger_type == "scheduled":
        if set(cfg) - {"at"}:
            _fail("trigger_config for scheduled takes only 'at'", "trigger_config")
        at = parse_when(cfg.get("at"), "trigger_config.at", tz)
        if at <= now:
            _fail("trigger_config.at must be in the future", "trigger_config.at")
        return {"at": at.isoformat()}, at
    if trigger_type == "deadline":
        if set(cfg) - {"offset_minutes", "offset_hours", "offset_days", "calendar"}:
            _fail("trigger_config for deadline takes 'offset_minutes', 'offset_hours' or 'offset_days', and "
                  "'calendar'", "trigger_config")
        calendar = calendar_name(cfg["calendar"], "trigger_config.calendar") if "calendar" in cfg else None
        if "offset_minutes" not in cfg and "offset_hours" not in cfg and "offset_days" in cfg:
            days = _int_field(cfg, "offset_days", 0, MAX_OFFSET_DAYS, "days before the deadline")
            if calendar is None:
                return {"offset_minutes": days * 24 * 60}, None
            return {"offset_days": days, "calendar": calendar}, None
        if "offset_hours" in cfg and "offset_minutes" not in cfg:
            minutes = _int_field(cfg, "offset_hours", 0, MAX_OFFSET_MINUTES // 60, "hours before the deadline") * 60
        else:
            minutes = _int_field(cfg, "offset_minutes", 0, MAX_OFFSET_MINUTES, "minutes before the deadline")
        return ({"offset_minutes": minutes} if calendar is None
                else {"offset_minutes": minutes, "calendar": calendar}), None
    if trigger_type == "recurring":
        if set(cfg) - {"cron", "timezone", "until"}:
            _fail("trigger_config for recurring takes 'cron', 'timezone' and 'until'", "trigger_config")
        cron = cfg.get("cron")
        if not isinstance(cron, str) or len(cron) > 120 or len(cron.split()) != 5 or not croniter.is_valid(cron):
            _fail("trigger_config.cron must be a 5-field cron expression such as '0 8 * * 1-5'",
                  "trigger_config.cron")
        tz = cfg.get("timezone") or get_settings().timezone
        zone(tz, "trigger_config.timezone")
        until = None
        if cfg.get("until") not in (None, ""):
            until = parse_when(cfg["until"], "trigger_config.until", tz)
        try:
            nxt = next_cron_run(cron, tz, now, until)
        except CroniterBadDateError:
            _fail("the cron expression never fires (e.g. 31 February)", "trigger_config.cron")
        if nxt is None:
            _fail("the cron expression has no occurrence before 'until'", "trigger_config.until")
        return {"cron": " ".join(cron.split()), "timezone": tz,
                "until": until.isoformat() if until else None}, nxt
    if trigger_type == "inactivity":
        if set(cfg) - {"days", "hours", "calendar"}:
            _fail("trigger_config for inactivity takes 'days' or 'hours', and 'calendar'", "trigger_config")
        if ("days" in cfg) == ("hours" in cfg):
            _fail("trigger_config for inactivity needs either days or hours", "trigger_config")
        out = ({"days": _int_field(cfg, "days", 1, MAX_INACTIVITY_DAYS, "days without an update")} if "days" in cfg
               else {"hours": _int_field(cfg, "hours", 1, MAX_INACTIVITY_HOURS, "hours without an update")})
        if "calendar" in cfg:
            out["calendar"] = calendar_name(cfg["calendar"], "trigger_config.calendar")
        return out, now
    if trigger_type == "sla":
        if set(cfg) - {"target", "thresholds"}:
            _fail("trigger_config for sla takes 'target' and 'thresholds'", "trigger_config")
        target = cfg.get("target", "resolution")
        if target not in SLA_TARGETS:
            _fail("trigger_config.target must be 'response' or 'resolution'", "trigger_config.target")
        raw = cfg.get("thresholds")
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_SLA_THRESHOLDS:
            _fail(f"trigger_config.thresholds must be a list of 1 to {MAX_SLA_THRESHOLDS} percentages",
                  "trigger_config.thresholds")
        thresholds = sorted({_int_field({"thresholds": v}, "thresholds", 1, 100, "percent of the target")
                             for v in raw})
        return {"target": target, "thresholds": thresholds}, None
    _fail(f"unknown trigger_type {trigger_type!r}", "trigger_type")
    raise AssertionError  # unreachable


def validate_rule(data: dict[str, Any], now: datetime, old: dict[str, Any] | None = None,
                  tz: str | None = None) -> dict[str, Any]:
    """The row to store for a complete rule body (create, or an existing rule merged with a patch).

    `tz`: the acting user's time zone, for a scheduled `at` without offset.
    An edit that leaves the trigger alone keeps the running schedule (and a past `at`).
    """
    if old is not None and old["trigger_type"] == data["trigger_type"] \
            and old["trigger_config"] == data.get("trigger_config"):
        cfg, next_run = old["trigger_config"], old["next_run_at"]
    else:
        cfg, next_run = normalise_trigger(data["trigger_type"], data.get("trigger_config") or {}, now, tz)
    rec = data["recipients"]
    rec = rec.model_dump() if isinstance(rec, BaseModel) else dict(rec)
    channels = list(dict.fromkeys(data["channels"]))
    available = channel_registry.registry(wanted=channels)
    unknown = [c for c in channels if c not in available]
    if unknown:
        _fail(f"unknown channel(s): {', '.join(unknown)} (available: {', '.join(available)}, and dest:<slug> "
              "for each destination under Reminders > Destinations)", "channels")
    emails = []
    for raw in rec.get("emails") or []:
        addr = str(raw).strip().lower()
        if not EMAIL_RE.match(addr) or len(addr) > 254:
            _fail(f"not a valid e-mail address: {str(raw)[:80]!r}", "recipients.emails")
        emails.append(addr)
    rec["emails"] = list(dict.fromkeys(emails))
    rec["users"] = list(dict.fromkeys(rec.get("users") or []))
    rec["roles"] = list(dict.fromkeys(rec.get("roles") or []))
    if rec["emails"] and not any(available[c].external for c in channels):
        with i18n.use_language("en"):  # an API message: English, whoever asks
            reaching = " or ".join(f"the {str(c.label).lower()} channel" for c in available.values() if c.external)
        _fail(f"external e-mail recipients need {reaching or 'a channel that reaches e-mail addresses'}",
              "recipients.emails")
    if not (rec.get("assignee") or rec.get("creator") or rec.get("watchers") or rec["users"] or rec["roles"]
            or rec["emails"]):
        _fail("choose at least one recipient (assignee, creator, watchers, users, roles or e-mails)", "recipients")
    if rec["users"]:
        found = database.execute_query("SELECT id FROM users WHERE id = ANY(%s)", (rec["users"],))
        missing = set(rec["users"]) - {r["id"] for r in found}
        if missing:
            _fail(f"unknown user id(s): {', '.join(map(str, sorted(missing)))}", "recipients.users")
    if data.get("sag_id") is not None:
        if not database.execute_query("SELECT 1 FROM sag_sager WHERE id = %s", (data["sag_id"],)):
            _fail(f"case {data['sag_id']} does not exist", "sag_id")
    if (data.get("escalate_after") is None) != (data.get("escalate_role") is None):
        _fail("escalation needs both escalate_after and escalate_role", "escalate_after")
    if data.get("escalate_after") is not None and data.get("repeat_every_hours") is None:
        _fail("escalation happens on re-reminders: set repeat_every_hours too", "escalate_after")
    for field in ("title_template", "message_template"):
        try:
            check_template(data.get(field) or "", field)
        except ReminderTemplateError as exc:
            _fail(f"template error in {exc}", field)
    if not str(data["name"]).strip() or not str(data["title_template"]).strip():
        _fail("name and title_template must not be blank", "name")
    # The calendar counts only with the option on (turning it off forgets the calendar).
    in_hours = bool(data.get("deliver_in_opening_hours", False))
    opening_calendar = None
    if in_hours:
        opening_calendar = calendar_name(data.get("opening_hours_calendar") or "default",
                                         "opening_hours_calendar")
        opening_calendar = None if opening_calendar == "default" else opening_calendar
    return {
        "name": str(data["name"]).strip(),
        "sag_id": data.get("sag_id"),
        "trigger_type": data["trigger_type"],
        "trigger_config": cfg,
        "recipients": rec,
        "channels": channels,
        "title_template": data["title_template"],
        "message_template": data.get("message_template") or "",
        "priority": data.get("priority") or "normal",
        "active": bool(data.get("active", True)),
        "repeat_every_hours": data.get("repeat_every_hours"),
        "escalate_after": data.get("escalate_after"),
        "escalate_role": data.get("escalate_role"),
        "deliver_in_opening_hours": in_hours,
        "opening_hours_calendar": opening_calendar,
        "group_window_minutes": _group_window(data.get("group_window_minutes")),
        "next_run_at": next_run,
    }


def _group_window(value: Any) -> int:
    if value is None:
        return DEFAULT_GROUP_WINDOW_MIN
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1440:
        _fail("group_window_minutes must be a whole number from 0 to 1440", "group_window_minutes")
    return value


def lookahead(now: datetime, days: int = 7) -> datetime:
    return now + timedelta(days=days)
