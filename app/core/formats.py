"""Dates, times, numbers and relative times written the way the reader's language writes them.

Every function formats for the current language (`app.core.i18n`) unless told another, and
shows a moment in the time zone it is given (a user's `timezone`, else the hub's
`TIMEZONE`). Pages get them as template filters (`app.core.templating`); the worker calls
them for each recipient of an e-mail.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_timedelta, match_skeleton
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


LOCALES_KEPT = 16  # parsed Babel locales and their skeleton patterns kept


def _locale(language: str | None) -> Locale:
    return _parsed_locale(i18n.locale_name(language))


@lru_cache(maxsize=LOCALES_KEPT)
def _parsed_locale(name: str) -> Locale:
    # Cached: the worker formats a deadline for every e-mail, and parsing the name each time
    # cost more than the formatting.
    return Locale.parse(name)


@lru_cache(maxsize=LOCALES_KEPT * 8)
def _skeleton_pattern(skeleton: str, locale: Locale) -> str:
    """The locale's pattern for a CLDR skeleton, the closest one when it has no exact match
    (what babel's format_skeleton(..., fuzzy=True) looks up on every call)."""
    skeletons = locale.datetime_skeletons
    if skeleton not in skeletons:
        skeleton = match_skeleton(skeleton, skeletons) or skeleton
    return skeletons[skeleton]


def _format_skeleton(skeleton: str, value: date | datetime | time, locale: Locale) -> str:
    return babel_format_datetime(value, _skeleton_pattern(skeleton, locale), locale=locale)


def format_date(value: date | datetime | None, style: str = "medium", tz_name: str | None = None,
                language: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value, tz_name)
    return _format_skeleton(DATE_SKELETONS.get(style, style), value, _locale(language))


def format_time(value: datetime | time | None, tz_name: str | None = None, language: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value, tz_name)
    return _format_skeleton(TIME_SKELETON, value, _locale(language))


def format_datetime(value: datetime | None, style: str = "medium", tz_name: str | None = None,
                    language: str | None = None) -> str:
    """Date and time of day, e.g. "1. dec. 2026 14.05" (da) or "1 Dec 2026, 14:05" (en)."""
    if value is None:
        return ""
    local = to_local(value, tz_name)
    locale = _locale(language)
    glue = locale.datetime_formats.get(style if style in ("short", "medium", "long") else "medium", "{1} {0}")
    # `local` is already in the reader's zone: the parts are formatted in that same zone.
    return str(glue).replace("'", "").format(format_time(local, tz_name, language=language),
                                             format_date(local, style, tz_name, language=language))


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
