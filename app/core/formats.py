"""Dates, times, numbers and relative times written the way the reader's language writes them.

Every function formats for the current language (`app.core.i18n`) unless told another, and
shows a moment in the time zone it is given (a user's `timezone`, else the hub's
`TIMEZONE`). Pages get them as template filters (`app.core.templating`); the worker calls
them for each recipient of an e-mail.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_timedelta
from babel.numbers import format_decimal

from app.core import i18n
from app.core.config import get_settings

# Skeletons (CLDR): each locale orders and punctuates them its own way,
# e.g. "1. dec. 2026 14.05" in Danish, "1 Dec 2026, 14:05" in English.
DATE_SKELETONS = {"short": "yMd", "medium": "yMMMd", "long": "yMMMMd", "weekday": "yMMMEd", "day": "MMMEd"}
TIME_SKELETON = "Hm"
# A relative time shows the largest unit that reaches this share of one ("om 2 timer").
RELATIVE_THRESHOLD = 0.9


def zone(tz_name: str | None = None) -> ZoneInfo:
    """The zone named `tz_name`, else the hub's TIMEZONE (UTC when neither is known)."""
    for name in (tz_name, get_settings().timezone):
        if name:
            try:
                return ZoneInfo(name)
            except (KeyError, ValueError):
                continue
    return ZoneInfo("UTC")


def to_local(value: datetime, tz_name: str | None = None) -> datetime:
    """`value` in the reader's zone; a naive value is taken as already local."""
    return value.astimezone(zone(tz_name)) if value.tzinfo else value


def _locale(language: str | None) -> Locale:
    return Locale.parse(i18n.locale_name(language))


def format_date(value: date | datetime | None, style: str = "medium", tz_name: str | None = None,
                language: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value, tz_name)
    return format_skeleton(DATE_SKELETONS.get(style, style), value, locale=_locale(language), fuzzy=True)


def format_time(value: datetime | time | None, tz_name: str | None = None, language: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value, tz_name)
    return format_skeleton(TIME_SKELETON, value, locale=_locale(language), fuzzy=True)


def format_datetime(value: datetime | None, style: str = "medium", tz_name: str | None = None,
                    language: str | None = None) -> str:
    """Date and time of day, e.g. "1. dec. 2026 14.05" (da) or "1 Dec 2026, 14:05" (en)."""
    if value is None:
        return ""
    local = to_local(value, tz_name)
    locale = _locale(language)
    glue = locale.datetime_formats.get(style if style in ("short", "medium", "long") else "medium", "{1} {0}")
    return str(glue).replace("'", "").format(format_time(local, language=language),
                                             format_date(local, style, language=language))


def format_number(value: float | int | None, language: str | None = None, decimals: int | None = None) -> str:
    """12345.6 as "12.345,6" (da) or "12,345.6" (en)."""
    if value is None:
        return ""
    fmt = None if decimals is None else "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=fmt, locale=_locale(language))


def format_relative(value: datetime | None, now: datetime | None = None, language: str | None = None) -> str:
    """How far `value` is from now: "om 2 timer", "for 3 dage siden" / "in 2 hours", "3 days ago"."""
    if value is None:
        return ""
    now = now or datetime.now(UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=now.tzinfo)
    return format_timedelta(value - now, add_direction=True, threshold=RELATIVE_THRESHOLD,
                            locale=_locale(language))


def format_duration(value: timedelta | float | None, language: str | None = None) -> str:
    """A length of time without direction: "2 timer" / "2 hours" (seconds or a timedelta)."""
    if value is None:
        return ""
    return format_timedelta(value, threshold=RELATIVE_THRESHOLD, locale=_locale(language))
