"""Request models of the calendar API. Every constraint is stated here, so /openapi.json
tells a client what the API accepts; the database checks the same shapes again."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.modules.sag.sla import businesstime

NAME_MAX = 80
NOTE_MAX = 120
MAX_INTERVALS_PER_DAY = 8
MAX_DATES = 500  # closed or special dates per calendar: years of them
# Dates outside these years are typing mistakes (and beyond what holiday rules are known for).
MIN_YEAR, MAX_YEAR = 2000, 2100

Clock = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
EndClock = Annotated[str, StringConstraints(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\0) characters")
    return value


def _sensible_year(value: date) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"date must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX),
                 AfterValidator(_no_nul)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=NOTE_MAX), AfterValidator(_no_nul)]
Day = Annotated[date, AfterValidator(_sensible_year)]
TimeZone = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$"),
                     Field(description="IANA time zone, e.g. Europe/Copenhagen")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,3}$"),
                    Field(description="ISO 3166 code whose public holidays close the calendar, e.g. DK")]
Subdivision = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,10}$"),
                        Field(description="Subdivision of the country for regional holidays, e.g. BY")]


class Interval(BaseModel):
    """An opening interval in local wall time; end 24:00 is midnight at the end of the day."""

    model_config = ConfigDict(extra="forbid")
    start: Clock
    end: EndClock

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.start >= self.end:
            raise ValueError(f"{self.start}-{self.end}: the end must come after the start")
        return self

    def minutes(self) -> businesstime.Interval:
        return businesstime.parse_clock(self.start), businesstime.parse_clock(self.end)


def _disjoint(intervals: list[Interval]) -> list[Interval]:
    ordered = sorted(intervals, key=lambda iv: iv.start)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.start < before.end:
            raise ValueError(f"{before.start}-{before.end} and {after.start}-{after.end} overlap")
    return ordered


Intervals = Annotated[list[Interval], Field(max_length=MAX_INTERVALS_PER_DAY), AfterValidator(_disjoint)]
OpenIntervals = Annotated[list[Interval], Field(min_length=1, max_length=MAX_INTERVALS_PER_DAY),
                          AfterValidator(_disjoint)]


class WeeklyHours(BaseModel):
    """Opening intervals per weekday; a day left out or empty is closed."""

    model_config = ConfigDict(extra="forbid")
    mon: Intervals = []
    tue: Intervals = []
    wed: Intervals = []
    thu: Intervals = []
    fri: Intervals = []
    sat: Intervals = []
    sun: Intervals = []

    def minutes(self) -> tuple[tuple[businesstime.Interval, ...], ...]:
        return tuple(tuple(iv.minutes() for iv in getattr(self, day)) for day in businesstime.WEEKDAYS)


class ClosedDate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: Day
    note: Note = ""


class SpecialDay(BaseModel):
    """A date with other opening hours than its weekday: a half day, or open on a holiday."""

    model_config = ConfigDict(extra="forbid")
    date: Day
    hours: OpenIntervals
    note: Note = ""


def _check_dates(closed: list[ClosedDate], special: list[SpecialDay]) -> None:
    seen: set[date] = set()
    for d in [c.date for c in closed] + [s.date for s in special]:
        if d in seen:
            raise ValueError(f"{d.isoformat()} is listed twice (a date is either closed or has special hours)")
        seen.add(d)


class _CalendarFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def check_calendar(self, fields: dict) -> None:
        """Build the calendar once, so an unknown zone or holiday country is refused now."""
        businesstime.Calendar(tz=fields["timezone"], weekly=WeeklyHours(**fields["weekly_hours"]).minutes(),
                              country=fields["country"], subdivision=fields["subdivision"])


class CalendarIn(_CalendarFields):
    name: Name
    timezone: TimeZone = "Europe/Copenhagen"
    weekly_hours: WeeklyHours = WeeklyHours()
    country: Country | None = "DK"
    subdivision: Subdivision | None = None
    closed_dates: Annotated[list[ClosedDate], Field(max_length=MAX_DATES)] = []
    special_days: Annotated[list[SpecialDay], Field(max_length=MAX_DATES)] = []
    is_default: Annotated[bool, Field(description="Make this the default calendar (the previous default "
                                                  "stops being it)")] = False

    @model_validator(mode="after")
    def _consistent(self) -> CalendarIn:
        if self.subdivision is not None and self.country is None:
            raise ValueError("a subdivision needs a country")
        _check_dates(self.closed_dates, self.special_days)
        self.check_calendar(self.model_dump())
        return self


class CalendarPatch(_CalendarFields):
    """Change some fields; a list given replaces the stored one."""

    name: Name | None = None
    timezone: TimeZone | None = None
    weekly_hours: WeeklyHours | None = None
    country: Country | None = None
    subdivision: Subdivision | None = None
    closed_dates: Annotated[list[ClosedDate] | None, Field(max_length=MAX_DATES)] = None
    special_days: Annotated[list[SpecialDay] | None, Field(max_length=MAX_DATES)] = None
    is_default: Annotated[bool | None, Field(description="true makes this the default calendar; to stop "
                                                         "being the default, make another one the default")] = None


class CustomerCalendar(BaseModel):
    model_config = ConfigDict(extra="forbid")
    calendar_id: Annotated[int, Field(gt=0, lt=2**31)]
