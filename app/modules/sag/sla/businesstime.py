"""Business-time arithmetic over a calendar: pure functions, no database.

An instant is *open* when its wall-clock time in the calendar's zone falls inside one of
the opening intervals of its local date. A date's intervals come from, in this order:
its own entry in `overrides` (special hours; an empty entry = a closed date), a public
holiday of `country`/`subdivision` (closed), the weekly hours of its weekday.

Because openness follows the wall clock, DST is handled by construction: on the night
Europe/Copenhagen springs forward, 00:00-24:00 holds 23 hours; when it falls back, 02:00-03:00
is open twice. The arithmetic never walks minute by minute: a date becomes at most a few
spans of UTC instants (cached per calendar and date) that are added up or cut.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as holidays_lib

MINUTES_PER_DAY = 24 * 60
# How far add/next_open look for an opening before giving up (days); a calendar without any
# opening hours in this window answers NoOpeningHours instead of searching forever.
SEARCH_HORIZON_DAYS = 3 * 366
# Holiday names as the (English) pages show them; a country without English names keeps its own.
HOLIDAY_LANGUAGE = "en_US"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Interval = tuple[int, int]  # minutes since local midnight, [start, end), 0 <= start < end <= 1440
Span = tuple[datetime, datetime]  # UTC instants, [start, end)


class NoOpeningHours(ValueError):
    """The calendar has no opening hours within SEARCH_HORIZON_DAYS of the instant."""


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
def _holidays_of_year(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    found = holidays_lib.country_holidays(country, subdiv=subdivision, years=year, language=HOLIDAY_LANGUAGE)
    return dict(found.items())


@dataclass(frozen=True, eq=False)
class Calendar:
    """A business-hours calendar. `weekly[0]` is Monday; all intervals in local wall time."""

    tz: str = "Europe/Copenhagen"
    weekly: tuple[tuple[Interval, ...], ...] = ((),) * 7
    overrides: Mapping[date, tuple[Interval, ...]] = field(default_factory=dict)
    country: str | None = "DK"
    subdivision: str | None = None
    _zone: ZoneInfo = field(init=False, repr=False)
    _spans: dict[date, tuple[Span, ...]] = field(init=False, repr=False, default_factory=dict)

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

    def holiday(self, day: date) -> str | None:
        """The public holiday's name on `day`, if it is one."""
        if self.country is None:
            return None
        return _holidays_of_year(self.country, self.subdivision, day.year).get(day)

    def holidays_between(self, first: date, last: date) -> list[tuple[date, str]]:
        """Public holidays from `first` to `last` (both included), in date order."""
        if self.country is None:
            return []
        found = []
        for year in range(first.year, last.year + 1):
            found += [(d, n) for d, n in _holidays_of_year(self.country, self.subdivision, year).items()
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
        cached = self._spans.get(day)
        if cached is None:
            cached = self._spans[day] = _spans(self._zone, day, self.hours_on(day))
        return cached

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
    return at.astimezone(UTC)


def _spans_from(cal: Calendar, at: datetime) -> Iterator[Span]:
    """Open spans (cut to start at `at`) that end after `at`, in time order."""
    day = at.astimezone(cal.zone).date() - timedelta(days=1)
    for i in range(SEARCH_HORIZON_DAYS):
        for a, b in cal.spans_on(day + timedelta(days=i)):
            if b > at:
                yield max(a, at), b
    raise NoOpeningHours(f"no opening hours within {SEARCH_HORIZON_DAYS} days after {at.isoformat()}")


def _spans_before(cal: Calendar, at: datetime) -> Iterator[Span]:
    """Open spans (cut to end at `at`) that start before `at`, latest first."""
    day = at.astimezone(cal.zone).date() + timedelta(days=1)
    for i in range(SEARCH_HORIZON_DAYS):
        for a, b in reversed(cal.spans_on(day - timedelta(days=i))):
            if a < at:
                yield a, min(b, at)
    raise NoOpeningHours(f"no opening hours within {SEARCH_HORIZON_DAYS} days before {at.isoformat()}")


def next_open(cal: Calendar, at: datetime) -> datetime:
    """The first open instant at or after `at` (`at` itself when the calendar is open then)."""
    start, _end = next(_spans_from(cal, _aware(at)))
    return start


def add_working_minutes(cal: Calendar, at: datetime, minutes: float) -> datetime:
    """The instant `minutes` of open time after `at` (before it, when negative), in UTC.

    The result ends an open stretch rather than starting the next one: 60 minutes from
    15:00 with closing at 16:00 is 16:00, not the next morning. 0 minutes is `at` itself.
    """
    at = _aware(at)
    remaining = timedelta(minutes=abs(minutes))
    if not remaining:
        return at
    if minutes > 0:
        for a, b in _spans_from(cal, at):
            if remaining <= b - a:
                return a + remaining
            remaining -= b - a
    for a, b in _spans_before(cal, at):
        if remaining <= b - a:
            return b - remaining
        remaining -= b - a
    raise AssertionError("unreachable: the span iterators end by raising")


def working_time_between(cal: Calendar, start: datetime, end: datetime) -> timedelta:
    """Open time from `start` to `end` (negative when `end` is earlier)."""
    start, end = _aware(start), _aware(end)
    if end < start:
        return -working_time_between(cal, end, start)
    total = timedelta()
    day = start.astimezone(cal.zone).date() - timedelta(days=1)
    last = end.astimezone(cal.zone).date() + timedelta(days=1)
    while day <= last:
        for a, b in cal.spans_on(day):
            if a < end and b > start:
                total += min(b, end) - max(a, start)
        day += timedelta(days=1)
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
