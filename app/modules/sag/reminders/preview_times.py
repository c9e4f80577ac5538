"""The rule preview's times in words, in working time where the rule counts it: "Tue 09:45
(4 working hours before the deadline)", "Wed 15:00 (75 % of the resolution target, due Thu
09:00)", and when a rule that delivers only within opening hours would hold a firing."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.core.config import get_settings

DAY_FORMAT = "%a %d %b %H:%M"  # "Tue 01 Dec 09:45": the preview spans a week, so the weekday says most


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _length(cfg: dict[str, Any], minutes_key: str, days_key: str, hours_key: str | None = None) -> str:
    """An offset in words: '2 working days', '4 working hours', '90 minutes'."""
    working = "working " if cfg.get("calendar") else ""
    if cfg.get(days_key) is not None:
        return _plural(int(cfg[days_key]), f"{working}day")
    minutes = int(cfg.get(minutes_key) or 0) + 60 * int(cfg.get(hours_key or "", None) or 0)
    if minutes % 60 == 0:
        return _plural(minutes // 60, f"{working}hour")
    return _plural(minutes, f"{working}minute")


def _calendar(cfg: dict[str, Any]) -> str:
    name = cfg.get("calendar")
    if not name:
        return ""
    return " (default calendar)" if name == "default" else f" (calendar {name})"


def describe(rule: dict[str, Any], firing: dict[str, Any], tz: ZoneInfo) -> str:
    """Why the firing is at its time, in words."""
    cfg = rule["trigger_config"]
    kind = rule["trigger_type"]
    if kind == "deadline":
        return f"{_length(cfg, 'offset_minutes', 'offset_days')} before the deadline{_calendar(cfg)}"
    if kind == "inactivity":
        return f"after {_length(cfg, 'minutes', 'days', 'hours')} without an update{_calendar(cfg)}"
    if kind == "sla":
        what = "the breach of" if firing["percent"] == 100 else f"{firing['percent']} % of"
        due = firing.get("due_at")
        return f"{what} the {cfg['target']} target" + (f", due {local(due, tz)}" if due else "")
    if kind == "recurring":
        return f"cron {cfg['cron']} in {cfg.get('timezone') or get_settings().timezone}"
    return "at the set time"


def local(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime(DAY_FORMAT)


def when_text(rule: dict[str, Any], firing: dict[str, Any], now: datetime, tz: ZoneInfo) -> str:
    """"Tue 01 Dec 09:45 (4 working hours before the deadline)", with "now" for an instant already past."""
    at = firing["at"]
    shown = "now" if at <= now else local(at, tz)
    text = f"{shown} ({describe(rule, firing, tz)})"
    if firing.get("held_until") is not None:
        text += f"; held until {local(firing['held_until'], tz)}, when the calendar opens"
    return text


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or get_settings().timezone)
    except (KeyError, ValueError):
        return ZoneInfo(get_settings().timezone)
