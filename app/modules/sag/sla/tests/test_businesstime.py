"""Business-time arithmetic: named cases (Danish holidays, DST nights, lunch breaks) and
property tests against a slow reference that walks minute by minute."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.modules.sag.sla.businesstime import (
    Calendar,
    NoOpeningHours,
    add_working_minutes,
    next_open,
    normalise,
    parse_clock,
    schedule,
    working_minutes_between,
)

CPH = ZoneInfo("Europe/Copenhagen")
OFFICE = ((480, 720), (750, 960))  # 08:00-12:00, 12:30-16:00
WEEKDAYS_ONLY = (OFFICE,) * 5 + ((), ())
ALWAYS = (((0, 1440),),) * 7


def cph(*args) -> datetime:
    return datetime(*args, tzinfo=CPH)


def office(**kw) -> Calendar:
    return Calendar(weekly=WEEKDAYS_ONLY, **kw)


# --- the slow reference: one minute at a time --------------------------------------------

def ref_open(cal: Calendar, minute: datetime) -> bool:
    local = minute.astimezone(cal.zone)
    m = local.hour * 60 + local.minute
    return any(s <= m < e for s, e in cal.hours_on(local.date()))


def ref_between(cal: Calendar, start: datetime, end: datetime) -> int:
    t, n = start, 0
    while t < end:
        n += ref_open(cal, t)
        t += timedelta(minutes=1)
    return n


def ref_add(cal: Calendar, start: datetime, minutes: int, limit: int) -> datetime | None:
    t, left = start, minutes
    for _ in range(limit):
        if left == 0:
            return t
        if ref_open(cal, t):
            left -= 1
        t += timedelta(minutes=1)
    return t if left == 0 else None


def ref_next_open(cal: Calendar, start: datetime, limit: int) -> datetime | None:
    t = start
    for _ in range(limit):
        if ref_open(cal, t):
            return t
        t += timedelta(minutes=1)
    return None


# --- strategies -----------------------------------------------------------------------

ZONES = ["Europe/Copenhagen", "America/New_York", "Australia/Lord_Howe", "UTC", "Asia/Kolkata"]
# Around Danish holidays, both DST changes of 2023 and 2024, and a new year (the arithmetic
# keeps one running total per local year).
WINDOWS = [datetime(2023, 3, 24, tzinfo=UTC), datetime(2023, 4, 3, tzinfo=UTC), datetime(2023, 10, 25, tzinfo=UTC),
           datetime(2024, 3, 27, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC), datetime(2023, 11, 1, tzinfo=UTC),
           datetime(2023, 12, 26, tzinfo=UTC)]
SPAN_DAYS = 10

# Quarter hours (the usual) and any minute; drawn as start + length so none is discarded.
interval = st.tuples(st.integers(0, 95), st.integers(1, 96)).map(lambda p: (p[0] * 15, min(96, p[0] + p[1]) * 15))
odd_interval = st.tuples(st.integers(0, 1439), st.integers(1, 1440)).map(lambda p: (p[0], min(1440, p[0] + p[1])))
day_hours = st.lists(st.one_of(interval, odd_interval), max_size=3).map(tuple)


@st.composite
def calendars(draw) -> Calendar:
    weekly = tuple(draw(day_hours) for _ in range(6)) + (draw(day_hours.filter(bool)),)
    base = draw(st.sampled_from(WINDOWS)).date()
    overrides = draw(st.dictionaries(st.integers(0, SPAN_DAYS + 2).map(lambda i: base + timedelta(days=i)),
                                     day_hours, max_size=3))
    return Calendar(tz=draw(st.sampled_from(ZONES)), weekly=weekly, overrides=overrides,
                    country=draw(st.sampled_from(["DK", None])))


@st.composite
def instants(draw) -> datetime:
    base = draw(st.sampled_from(WINDOWS))
    return base + timedelta(minutes=draw(st.integers(0, SPAN_DAYS * 1440)))


PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(calendars(), instants(), st.integers(0, 3 * 1440))
def test_working_minutes_between_matches_minute_by_minute_count(cal, start, length):
    end = start + timedelta(minutes=length)
    assert working_minutes_between(cal, start, end) == ref_between(cal, start, end)
    assert working_minutes_between(cal, end, start) == -ref_between(cal, start, end)


@PROPS
@given(calendars(), instants(), st.integers(0, 2000))
def test_add_working_minutes_matches_minute_by_minute_walk(cal, start, minutes):
    expected = ref_add(cal, start, minutes, limit=12 * 1440)
    assume(expected is not None)
    got = add_working_minutes(cal, start, minutes)
    assert got == expected
    assert working_minutes_between(cal, start, got) == minutes


@PROPS
@given(calendars(), instants(), st.integers(1, 2000))
def test_subtracting_walks_back_to_an_instant_the_same_working_time_before(cal, end, minutes):
    start = add_working_minutes(cal, end, -minutes)
    assert start < end
    assert working_minutes_between(cal, start, end) == minutes
    assert ref_open(cal, start)


@PROPS
@given(calendars(), instants())
def test_next_open_matches_minute_by_minute_search(cal, start):
    expected = ref_next_open(cal, start, limit=12 * 1440)
    assume(expected is not None)
    assert next_open(cal, start) == expected
    assert cal.is_open(expected) and ref_open(cal, expected)


# --- named cases ------------------------------------------------------------------------

def test_danish_easter_holidays_are_closed_from_maundy_thursday_to_easter_monday():
    cal = office()
    # Wednesday 2024-03-27 15:00: one hour left that day, then Easter closes Thu-Mon.
    assert add_working_minutes(cal, cph(2024, 3, 27, 15, 0), 90) == cph(2024, 4, 2, 8, 30)
    for day in (28, 29, 31):
        assert cal.hours_on(date(2024, 3, day)) == ()
    assert cal.hours_on(date(2024, 4, 1)) == ()
    assert cal.holiday(date(2024, 3, 29)) == "Good Friday"
    assert working_minutes_between(cal, cph(2024, 3, 27, 16, 0), cph(2024, 4, 2, 8, 0)) == 0


def test_great_prayer_day_is_a_holiday_in_2023_but_a_working_day_from_2024():
    cal = office()
    assert cal.holiday(date(2023, 5, 5)) == "Great Prayer Day"
    assert cal.hours_on(date(2023, 5, 5)) == ()
    # Great Prayer Day 2024 would have been Friday 26 April: an ordinary Friday now.
    assert cal.holiday(date(2024, 4, 26)) is None
    assert cal.hours_on(date(2024, 4, 26)) == OFFICE
    assert working_minutes_between(cal, cph(2023, 5, 4, 16, 0), cph(2023, 5, 8, 8, 0)) == 0
    assert working_minutes_between(cal, cph(2024, 4, 25, 16, 0), cph(2024, 4, 29, 8, 0)) == 450


def test_spring_forward_night_in_copenhagen_has_23_open_hours_around_the_clock():
    cal = Calendar(weekly=ALWAYS, country=None)
    assert working_minutes_between(cal, cph(2024, 3, 31, 0, 0), cph(2024, 4, 1, 0, 0)) == 23 * 60
    # 01:30 + 60 minutes is 03:30 on that night: 02:00-03:00 does not exist.
    assert add_working_minutes(cal, cph(2024, 3, 31, 1, 30), 60) == cph(2024, 3, 31, 3, 30)


def test_fall_back_night_in_copenhagen_has_25_open_hours_and_opens_the_repeated_hour_twice():
    cal = Calendar(weekly=ALWAYS, country=None)
    assert working_minutes_between(cal, cph(2024, 10, 27, 0, 0), cph(2024, 10, 28, 0, 0)) == 25 * 60
    night = Calendar(weekly=(((120, 180),),) * 7, country=None)  # open 02:00-03:00 wall time
    assert working_minutes_between(night, cph(2024, 10, 27, 0, 0), cph(2024, 10, 28, 0, 0)) == 120
    first = datetime(2024, 10, 27, 0, 0, tzinfo=UTC)  # 02:00 CEST
    assert add_working_minutes(night, first, 90) == datetime(2024, 10, 27, 1, 30, tzinfo=UTC)


def test_office_hours_across_a_dst_weekend_count_wall_clock_hours():
    cal = office()
    # Friday 15:00 -> Monday 09:00 across the spring-forward Sunday of 2023: 60 + 60 minutes.
    assert working_minutes_between(cal, cph(2023, 3, 24, 15), cph(2023, 3, 27, 9)) == 120
    assert add_working_minutes(cal, cph(2024, 10, 25, 15), 120) == cph(2024, 10, 28, 9)


def test_an_interval_spanning_lunch_skips_the_break():
    cal = office()
    monday = date(2024, 6, 3)
    assert add_working_minutes(cal, cph(2024, 6, 3, 11, 30), 60) == cph(2024, 6, 3, 13, 0)
    assert working_minutes_between(cal, cph(2024, 6, 3, 11, 0), cph(2024, 6, 3, 13, 0)) == 90
    assert next_open(cal, cph(2024, 6, 3, 12, 10)) == cph(2024, 6, 3, 12, 30)
    assert not cal.is_open(cph(2024, 6, 3, 12, 15)) and cal.is_open(cph(2024, 6, 3, 12, 30))
    assert cal.hours_on(monday) == OFFICE


def test_adding_to_the_end_of_the_day_ends_there_rather_than_at_the_next_opening():
    cal = office()
    assert add_working_minutes(cal, cph(2024, 6, 3, 15, 0), 60) == cph(2024, 6, 3, 16, 0)
    assert add_working_minutes(cal, cph(2024, 6, 3, 15, 0), 61) == cph(2024, 6, 4, 8, 1)
    assert add_working_minutes(cal, cph(2024, 6, 3, 20, 0), 0) == cph(2024, 6, 3, 20, 0)


def test_special_hours_and_closed_dates_override_weekdays_and_holidays():
    half_day = date(2024, 12, 23)
    closed = date(2024, 12, 27)
    open_on_holiday = date(2024, 12, 26)
    cal = office(overrides={half_day: ((480, 720),), closed: (), open_on_holiday: ((600, 660),)})
    days = {s.day: s for s in schedule(cal, date(2024, 12, 23), 7)}
    assert days[half_day].reason == "special" and days[half_day].hours_text == "08:00-12:00"
    assert days[closed].reason == "closed" and days[closed].intervals == ()
    assert days[date(2024, 12, 25)].reason == "holiday" and days[date(2024, 12, 25)].holiday == "Christmas Day"
    assert days[open_on_holiday].reason == "special" and days[open_on_holiday].holiday
    assert days[date(2024, 12, 28)].hours_text == "closed"
    # Christmas Eve is an ordinary working day.
    assert working_minutes_between(cal, cph(2024, 12, 23, 0), cph(2024, 12, 30, 0)) == 240 + 450 + 60


def test_subdivision_holidays_come_from_the_holidays_package():
    de_by = Calendar(weekly=WEEKDAYS_ONLY, country="DE", subdivision="BY", tz="Europe/Berlin")
    de_be = Calendar(weekly=WEEKDAYS_ONLY, country="DE", subdivision="BE", tz="Europe/Berlin")
    assert de_by.holiday(date(2024, 1, 6)) and de_be.holiday(date(2024, 1, 6)) is None
    assert [d for d, _ in office().holidays_between(date(2024, 12, 20), date(2025, 1, 2))] == [
        date(2024, 12, 25), date(2024, 12, 26), date(2025, 1, 1)]


def test_a_calendar_without_opening_hours_says_so_instead_of_searching_forever():
    cal = Calendar(country=None)
    with pytest.raises(NoOpeningHours):
        add_working_minutes(cal, cph(2024, 1, 1), 1)
    with pytest.raises(NoOpeningHours):
        next_open(cal, cph(2024, 1, 1))
    assert working_minutes_between(cal, cph(2024, 1, 1), cph(2024, 2, 1)) == 0


def test_working_time_carries_across_new_year_both_ways():
    cal = office()
    # Friday 29 Dec 2023 15:00 + 120 min: 60 that day, New Year's Day closed, 60 on Tuesday.
    assert add_working_minutes(cal, cph(2023, 12, 29, 15), 120) == cph(2024, 1, 2, 9)
    assert add_working_minutes(cal, cph(2024, 1, 2, 9), -120) == cph(2023, 12, 29, 15)
    assert working_minutes_between(cal, cph(2022, 12, 30, 15), cph(2025, 1, 2, 9)) == \
        working_minutes_between(cal, cph(2022, 12, 30, 15), cph(2024, 6, 1)) + \
        working_minutes_between(cal, cph(2024, 6, 1), cph(2025, 1, 2, 9))


def test_a_year_of_working_minutes_is_computed_by_jumping_intervals():
    cal = office()
    start = cph(2024, 1, 2, 8)
    end = add_working_minutes(cal, start, 250 * 450)  # about a working year
    assert end.year == 2024 and end.month == 12
    assert working_minutes_between(cal, start, end) == 250 * 450


@pytest.mark.parametrize("bad", [
    dict(tz="Mars/Olympus"), dict(country="XX"), dict(country="DE", subdivision="XX"),
    dict(weekly=((),) * 6), dict(weekly=(((600, 500),),) + ((),) * 6), dict(weekly=(((0, 1441),),) + ((),) * 6),
])
def test_bad_calendars_are_refused_with_a_value_error(bad):
    with pytest.raises(ValueError):
        Calendar(**bad)


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="time zone"):
        add_working_minutes(office(), datetime(2024, 1, 2, 9), 10)


def test_clock_texts_and_overlapping_intervals():
    assert parse_clock("08:30") == 510 and parse_clock("24:00") == 1440
    for bad in ("8", "24:01", "12:60", "ab:cd", "123:00"):
        with pytest.raises(ValueError):
            parse_clock(bad)
    assert normalise([(600, 700), (480, 620), (700, 720)]) == ((480, 720),)


@pytest.mark.parametrize("zone", ["Europe", "Etc", "zone1970.tab", "/etc/localtime", "posixrules", "Nowhere/City"])
def test_zone_names_that_are_not_time_zones_are_refused(zone):
    with pytest.raises(ValueError, match="unknown time zone"):
        Calendar(tz=zone)
