"""Business-time arithmetic over a calendar: pure functions, no database.

An instant is *open* when its wall-clock time in the calendar's zone falls inside one of
the opening intervals of its local date. A date's intervals come from, in this order:
its own entry in `overrides` (special hours; an empty entry = a closed date), a public
holiday of `country`/`subdivision` (closed), the weekly hours of its weekday.

Because openness follows the wall clock, DST is handled by construction: on the night
Europe/Copenhagen springs forward, 00:00-24:00 holds 23 hours; when it falls back, 02:00-03:00
is open twice. The arithmetic never walks minute by minute: a date becomes at most a few
spans of UTC instants, and a local year's spans are kept with their running total of open
time (`Calendar.timeline`), so adding or counting working time is a bisection.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as holidays_lib

MINUTES_PER_DAY = 24 * 60
# How far add/next_open look for an opening before giving up (years); a calendar without any
# opening hours in this window answers NoOpeningHours instead of searching forever.
SEARCH_HORIZON_YEARS = 3
# Instants outside these years are refused (holiday rules and zone data make little sense there).
MIN_YEAR, MAX_YEAR = 1901, 2199
ONE_DAY = timedelta(days=1)
# Holiday names in English by default (the API's); a page shows them in the reader's language
# when the holidays package knows the country's names in it (`holiday_language`). A country
# without names in the language asked for keeps its own.
HOLIDAY_LANGUAGE = "en_US"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Interval = tuple[int, int]  # minutes since local midnight, [start, end), 0 <= start < end <= 1440
Span = tuple[datetime, datetime]  # UTC instants, [start, end)


class NoOpeningHours(ValueError):
    """The calendar has no opening hours within SEARCH_HORIZON_YEARS of the instant."""


def parse_clock(text: str) -> int:
    """'08:30' -> 510 minutes; '24:00' is the end of the day."""
    try:
        hours, minutes = text.split(":")
        value = int(hours) * 60 + int(minutes)
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day like 08:30") from None
    if not (0 <= int(minutes) < 60 and 0 <= value <= MINUTES_PER_DAY) or len(hours) > 2 or len(minutes) != 2:
        raise ValueError(f"{text!r} is not a time of day between 00:00 and 24:00")
    return value


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def normalise(intervals: Sequence[Interval]) -> tuple[Interval, ...]:
    """Sorted, overlapping/touching intervals merged; a bad interval raises ValueError."""
    out: list[list[int]] = []
    for start, end in sorted(intervals):
        if not (0 <= start < end <= MINUTES_PER_DAY):
            raise ValueError(f"{format_clock(start)}-{format_clock(end)} is not an interval within one day")
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return tuple((s, e) for s, e in out)


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


@functools.lru_cache(maxsize=256)
def _holidays_of_year(country: str, subdivision: str | None, year: int,
                      language: str = HOLIDAY_LANGUAGE) -> dict[date, str]:
    found = holidays_lib.country_holidays(country, subdiv=subdivision, years=year, language=language)
    return dict(found.items())


@functools.lru_cache(maxsize=64)
def holiday_language(country: str | None, language: str) -> str:
    """The holidays package's language for a reader of `language` ("da", "en"): the reader's own
    when the package has the country's names in it, else English."""
    if country is None or language == "en":
        return HOLIDAY_LANGUAGE
    try:
        supported = holidays_lib.country_holidays(country).supported_languages
    except NotImplementedError:
        return HOLIDAY_LANGUAGE
    return language if language in supported else HOLIDAY_LANGUAGE


@dataclass(frozen=True)
class _Timeline:
    """A year's open spans: starts[i]-ends[i], with `before[i]` open time in the year before
    span i and `through[i]` up to its end, so positions are found by bisection."""

    starts: list[datetime]
    ends: list[datetime]
    before: list[timedelta]
    through: list[timedelta]

    @property
    def total(self) -> timedelta:
        return self.through[-1] if self.through else timedelta()

    @classmethod
    def of(cls, spans: list[Span]) -> _Timeline:
        before, through, running = [], [], timedelta()
        for a, b in spans:
            before.append(running)
            running += b - a
            through.append(running)
        return cls([a for a, _ in spans], [b for _, b in spans], before, through)


@dataclass(frozen=True, eq=False)
class Calendar:
    """A business-hours calendar. `weekly[0]` is Monday; all intervals in local wall time."""

    tz: str = "Europe/Copenhagen"
    weekly: tuple[tuple[Interval, ...], ...] = ((),) * 7
    overrides: Mapping[date, tuple[Interval, ...]] = field(default_factory=dict)
    country: str | None = "DK"
    subdivision: str | None = None
    _zone: ZoneInfo = field(init=False, repr=False)
    _years: dict[int, _Timeline] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        try:
            if self.tz not in _zone_names():  # ZoneInfo itself would open any file under the zone folder
                raise ZoneInfoNotFoundError(self.tz)
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {self.tz!r}") from None
        if len(self.weekly) != 7:
            raise ValueError("weekly hours need one entry per weekday, Monday first")
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "weekly", tuple(normalise(day) for day in self.weekly))
        object.__setattr__(self, "overrides", {d: normalise(iv) for d, iv in self.overrides.items()})
        if self.country is not None:
            try:
                _holidays_of_year(self.country, self.subdivision, 2000)
            except NotImplementedError as e:
                raise ValueError(f"no public holidays known for {self.country!r}/{self.subdivision!r}: {e}") from None

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def holiday(self, day: date, language: str = HOLIDAY_LANGUAGE) -> str | None:
        """The public holiday's name on `day`, if it is one (`language`: see `holiday_language`)."""
        if self.country is None:
            return None
        return _holidays_of_year(self.country, self.subdivision, day.year, language).get(day)

    def holidays_between(self, first: date, last: date, language: str = HOLIDAY_LANGUAGE) -> list[tuple[date, str]]:
        """Public holidays from `first` to `last` (both included), in date order."""
        if self.country is None:
            return []
        found = []
        for year in range(first.year, last.year + 1):
            found += [(d, n) for d, n in _holidays_of_year(self.country, self.subdivision, year, language).items()
                      if first <= d <= last]
        return sorted(found)

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """The opening intervals of a local date (special hours > holiday > weekday)."""
        if day in self.overrides:
            return self.overrides[day]
        if self.holiday(day) is not None:
            return ()
        return self.weekly[day.weekday()]

    def spans_on(self, day: date) -> tuple[Span, ...]:
        """The open UTC spans of a local date, sorted and disjoint."""
        return _spans(self._zone, day, self.hours_on(day))

    def timeline(self, year: int) -> _Timeline:
        """The open spans of a local year with their running total (built once per year)."""
        found = self._years.get(year)
        if found is None:
            if not MIN_YEAR - 1 <= year <= MAX_YEAR + 1:
                raise NoOpeningHours(f"business time is computed for the years {MIN_YEAR}-{MAX_YEAR} only")
            spans: list[Span] = []
            day, end = date(year, 1, 1), date(year + 1, 1, 1)
            while day < end:
                spans += self.spans_on(day)
                day += ONE_DAY
            found = self._years[year] = _Timeline.of(spans)
        return found

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self._zone)
        minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        return any(s <= minute < e for s, e in self.hours_on(local.date()))


def _local_midnight(zone: ZoneInfo, day: date) -> datetime:
    # fold=0 in a gap means "the offset before the change", i.e. the instant of the change.
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _offset_pieces(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, datetime, timedelta]]:
    """[start, end) cut where the zone's UTC offset changes (at most once a day in practice)."""
    first = start.astimezone(zone).utcoffset()
    last = (end - timedelta(microseconds=1)).astimezone(zone).utcoffset()
    if first == last:
        return [(start, end, first)]
    lo, hi = int(start.timestamp()), int(end.timestamp()) - 1  # offset(lo) == first != offset(hi)
    while hi - lo > 1:  # zone changes happen on whole seconds
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == first:
            lo = mid
        else:
            hi = mid
    change = datetime.fromtimestamp(hi, UTC)
    return [(start, change, first), (change, end, last)]


def _spans(zone: ZoneInfo, day: date, intervals: tuple[Interval, ...]) -> tuple[Span, ...]:
    if not intervals:
        return ()
    pieces = _offset_pieces(zone, _local_midnight(zone, day), _local_midnight(zone, day + timedelta(days=1)))
    midnight = datetime.combine(day, time(0), tzinfo=UTC)  # the local wall clock, read as if UTC
    out: list[Span] = []
    for start, end in intervals:
        for p_start, p_end, offset in pieces:
            a = max(p_start, midnight + timedelta(minutes=start) - offset)
            b = min(p_end, midnight + timedelta(minutes=end) - offset)
            if a < b:
                out.append((a, b))
    return tuple(sorted(out))


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business-time arithmetic needs an instant with a time zone")
    if not MIN_YEAR <= at.year <= MAX_YEAR:
        raise ValueError(f"business time is computed for the years {MIN_YEAR}-{MAX_YEAR} only")
    return at.astimezone(UTC)


def _position(tl: _Timeline, at: datetime) -> timedelta:
    """Open time in the timeline's year before `at`."""
    i = bisect.bisect_right(tl.starts, at) - 1
    if i < 0:
        return timedelta()
    return tl.before[i] + min(at, tl.ends[i]) - tl.starts[i]


def _instant(tl: _Timeline, position: timedelta, forward: bool) -> datetime:
    """The instant with `position` open time of the year before it; on a boundary between two
    spans, the end of the earlier one going forward and the start of the later one going back."""
    i = (bisect.bisect_left if forward else bisect.bisect_right)(tl.through, position)
    return tl.starts[i] + (position - tl.before[i])


def next_open(cal: Calendar, at: datetime) -> datetime:
    """The first open instant at or after `at` (`at` itself when the calendar is open then)."""
    at = _aware(at)
    year = at.astimezone(cal.zone).year
    for y in range(year, year + SEARCH_HORIZON_YEARS + 1):
        tl = cal.timeline(y)
        i = bisect.bisect_right(tl.ends, at)
        if i < len(tl.ends):
            return max(tl.starts[i], at)
    raise NoOpeningHours(f"no opening hours within {SEARCH_HORIZON_YEARS} years after {at.isoformat()}")


def add_working_minutes(cal: Calendar, at: datetime, minutes: float) -> datetime:
    """The instant `minutes` of open time after `at` (before it, when negative), in UTC.

    The result ends an open stretch rather than starting the next one: 60 minutes from
    15:00 with closing at 16:00 is 16:00, not the next morning. 0 minutes is `at` itself.
    """
    at = _aware(at)
    if minutes == 0:
        return at
    forward = minutes > 0
    year = at.astimezone(cal.zone).year
    tl = cal.timeline(year)
    target = _position(tl, at) + timedelta(minutes=minutes)
    for _ in range(SEARCH_HORIZON_YEARS):
        if timedelta() < target <= tl.total if forward else timedelta() <= target < tl.total:
            return _instant(tl, target, forward)
        # Beyond this year: carry the rest into the next (or previous) year's count.
        if forward:
            target -= tl.total
            year += 1
            tl = cal.timeline(year)
        else:
            year -= 1
            tl = cal.timeline(year)
            target += tl.total
    direction = "after" if forward else "before"
    raise NoOpeningHours(f"no opening hours within {SEARCH_HORIZON_YEARS} years {direction} {at.isoformat()}")


def working_time_between(cal: Calendar, start: datetime, end: datetime) -> timedelta:
    """Open time from `start` to `end` (negative when `end` is earlier)."""
    start, end = _aware(start), _aware(end)
    if end < start:
        return -working_time_between(cal, end, start)
    first, last = start.astimezone(cal.zone).year, end.astimezone(cal.zone).year
    total = _position(cal.timeline(last), end) - _position(cal.timeline(first), start)
    for year in range(first, last):
        total += cal.timeline(year).total
    return total


def working_minutes_between(cal: Calendar, start: datetime, end: datetime) -> float:
    return working_time_between(cal, start, end).total_seconds() / 60


@dataclass(frozen=True)
class DaySchedule:
    """What a calendar says about one local date, for people (the admin page's preview)."""

    day: date
    intervals: tuple[Interval, ...]
    reason: str  # "weekly", "special", "closed" (a custom closed date) or "holiday"
    holiday: str | None

    @property
    def hours_text(self) -> str:
        return ", ".join(f"{format_clock(s)}-{format_clock(e)}" for s, e in self.intervals) or "closed"


def schedule(cal: Calendar, first: date, days: int) -> list[DaySchedule]:
    """The opening hours of `days` consecutive local dates from `first`."""
    out = []
    for i in range(days):
        day = first + timedelta(days=i)
        name = cal.holiday(day)
        if day in cal.overrides:
            reason = "special" if cal.overrides[day] else "closed"
        else:
            reason = "holiday" if name is not None else "weekly"
        out.append(DaySchedule(day, cal.hours_on(day), reason, name))
    return out
