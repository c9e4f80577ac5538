"""The rule preview's times in words, in working time where the rule counts it: "Tue 09:45
(4 working hours before the deadline)", "Wed 15:00 (75 % of the resolution target, due Thu
09:00)", and when a rule that delivers only within opening hours would hold a firing."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.core import formats
from app.core.config import get_settings
from app.core.i18n import _, ngettext

DAY_SKELETON = "MMMEd"  # "Tue 1 Dec" / "tirs. 1. dec.": the preview spans a week, so the weekday says most


def _length(cfg: dict[str, Any], minutes_key: str, days_key: str, hours_key: str | None = None) -> str:
    """An offset in words: '2 working days', '4 working hours', '90 minutes'."""
    working = bool(cfg.get("calendar"))
    if cfg.get(days_key) is not None:
        n = int(cfg[days_key])
        return (ngettext("%(num)s working day", "%(num)s working days", n) if working
                else ngettext("%(num)s day", "%(num)s days", n))
    minutes = int(cfg.get(minutes_key) or 0) + 60 * int(cfg.get(hours_key or "", None) or 0)
    if minutes % 60 == 0:
        n = minutes // 60
        return (ngettext("%(num)s working hour", "%(num)s working hours", n) if working
                else ngettext("%(num)s hour", "%(num)s hours", n))
    return (ngettext("%(num)s working minute", "%(num)s working minutes", minutes) if working
            else ngettext("%(num)s minute", "%(num)s minutes", minutes))


def _calendar(cfg: dict[str, Any]) -> str:
    name = cfg.get("calendar")
    if not name:
        return ""
    return " " + (_("(default calendar)") if name == "default" else _("(calendar %(name)s)", name=name))


def _target(cfg: dict[str, Any]) -> str:
    return _("first response") if cfg.get("target") == "response" else _("resolution")


def describe(rule: dict[str, Any], firing: dict[str, Any], tz: ZoneInfo) -> str:
    """Why the firing is at its time, in words (the reader's language)."""
    cfg = rule["trigger_config"]
    kind = rule["trigger_type"]
    if kind == "deadline":
        return _("%(span)s before the deadline", span=_length(cfg, "offset_minutes", "offset_days")) + _calendar(cfg)
    if kind == "inactivity":
        return _("after %(span)s without an update", span=_length(cfg, "minutes", "days", "hours")) + _calendar(cfg)
    if kind == "sla":
        due = firing.get("due_at")
        if firing["percent"] == 100:
            text = _("the breach of the %(target)s target", target=_target(cfg))
        else:
            text = _("%(percent)s %% of the %(target)s target", percent=firing["percent"], target=_target(cfg))
        return text + (", " + _("due %(when)s", when=local(due, tz)) if due else "")
    if kind == "recurring":
        return _("cron %(cron)s in %(zone)s", cron=cfg["cron"], zone=cfg.get("timezone") or get_settings().timezone)
    return _("at the set time")


def local(at: datetime, tz: ZoneInfo) -> str:
    return f"{formats.format_date(at, DAY_SKELETON, tz.key)} {formats.format_time(at, tz.key)}"


def when_text(rule: dict[str, Any], firing: dict[str, Any], now: datetime, tz: ZoneInfo) -> str:
    """"Tue 1 Dec 09:45 (4 working hours before the deadline)", with "now" for an instant already past."""
    at = firing["at"]
    shown = _("now") if at <= now else local(at, tz)
    text = f"{shown} ({describe(rule, firing, tz)})"
    if firing.get("held_until") is not None:
        text += "; " + _("held until %(when)s, when the calendar opens", when=local(firing["held_until"], tz))
    return text


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or get_settings().timezone)
    except (KeyError, ValueError):
        return ZoneInfo(get_settings().timezone)
