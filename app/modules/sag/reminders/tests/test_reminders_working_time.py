"""Deadline and inactivity offsets in working hours and working days of a calendar: where
they land (across a weekend and Easter), the SQL agreeing with the Python arithmetic, a
firing through a real worker, and bad input refused with 422."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import database
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    db_now,
    events,
    logs,
    make_calendar,
    make_case,
    make_rule,
    run_worker,
)
from app.modules.sag.sla import calendars
from tests.fixtures import make_user

CPH = ZoneInfo("Europe/Copenhagen")
DAY = [{"start": "08:00", "end": "16:00"}]


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CPH)


@pytest.fixture(scope="module")
def office(app):
    """The default calendar: Mon-Fri 08-16, Danish holidays; and a second one open Saturdays too."""
    office = make_calendar()
    make_calendar("Weekend shop", ("tue", "wed", "thu", "fri", "sat"))
    return office


def _deadline_event(rule_id: int, case_id: int) -> dict:
    [event] = events(reminder_id=rule_id, sag_id=case_id, status="pending")
    return event


def test_working_hours_before_a_deadline_skip_the_night_and_the_weekend(office):
    clear_queue()
    u = make_user()
    # Monday 11 Jan 2027 10:00: four working hours before is Friday 14:00.
    case = make_case(assigned_to=u["id"], deadline=local(2027, 1, 11, 10))
    rule = make_rule(sag_id=case["id"], trigger_type="deadline",
                     trigger_config={"offset_hours": 4, "calendar": "default"},
                     title_template="{{ case.title }} is due soon")
    assert rule["trigger_config"] == {"offset_minutes": 240, "calendar": "default"}
    event = _deadline_event(rule["id"], case["id"])
    assert event["scheduled_for"] == local(2027, 1, 8, 14)
    # The same offset on a calendar open Tuesday to Saturday (closed Mondays) lands on Saturday 12:00.
    shop = make_rule(sag_id=case["id"], trigger_type="deadline",
                     trigger_config={"offset_hours": 4, "calendar": "weekend SHOP"}, title_template="x")
    assert shop["trigger_config"]["calendar"] == "Weekend shop"
    assert _deadline_event(shop["id"], case["id"])["scheduled_for"] == local(2027, 1, 9, 12)
    database.execute_update("UPDATE sag_reminders SET active = FALSE WHERE id = %s", (shop["id"],))
    # Through a real worker: nothing before Friday 14:00, once after.
    assert run_worker(offset=local(2027, 1, 8, 13, 59) - db_now()) == 0
    assert run_worker(offset=local(2027, 1, 8, 14, 1) - db_now()) == 1
    assert [r["user_id"] for r in logs(rule_id=rule["id"])] == [u["id"]]


def test_working_days_before_a_deadline_skip_easter(office):
    clear_queue()
    # Tuesday 30 Mar 2027 14:00; Easter Monday, Good Friday and Maundy Thursday are closed:
    # one working day back is Wednesday 24 March, two is Tuesday 23 March, at 14:00.
    case = make_case(deadline=local(2027, 3, 30, 14))
    one = make_rule(sag_id=case["id"], trigger_type="deadline",
                    trigger_config={"offset_days": 1, "calendar": "default"}, title_template="x")
    two = make_rule(sag_id=case["id"], trigger_type="deadline",
                    trigger_config={"offset_days": 2, "calendar": "Office"}, title_template="x")
    assert _deadline_event(one["id"], case["id"])["scheduled_for"] == local(2027, 3, 24, 14)
    assert _deadline_event(two["id"], case["id"])["scheduled_for"] == local(2027, 3, 23, 14)
    # Without a calendar, days are plain days (stored as minutes, as before).
    plain = make_rule(sag_id=case["id"], trigger_type="deadline", trigger_config={"offset_days": 2},
                      title_template="x")
    assert plain["trigger_config"] == {"offset_minutes": 2880}
    assert _deadline_event(plain["id"], case["id"])["scheduled_for"] == local(2027, 3, 28, 14)


@pytest.mark.parametrize("at, minutes", [
    (local(2027, 1, 11, 10), 240), (local(2027, 1, 11, 8), 60), (local(2027, 1, 11, 9), 60),
    (local(2027, 3, 30, 9, 30), 600), (local(2027, 3, 28, 2, 30), 30),
])
def test_sql_backwards_working_minutes_agree_with_python(office, at, minutes):
    from app.modules.sag.sla import businesstime
    got = database.execute_query("SELECT sag_shift_working_minutes(%s, %s, %s) AS t", (office, at, -minutes))[0]["t"]
    assert got == businesstime.add_working_minutes(calendars.load(office), at, -minutes)


def test_inactivity_in_working_hours_waits_over_the_weekend(office):
    clear_queue()
    u = make_user()
    # Quiet since Friday 15 Jan 2027 15:00: two working hours later is Monday 09:00.
    case = make_case(assigned_to=u["id"], updated_at=local(2027, 1, 15, 15), created_at=local(2027, 1, 15, 15))
    rule = make_rule(sag_id=case["id"], trigger_type="inactivity",
                     trigger_config={"hours": 2, "calendar": "default"}, title_template="{{ case.title }} is quiet")
    assert run_worker() == 1  # the first tick: nothing quiet yet; it plans the next one
    [tick] = events(reminder_id=rule["id"], kind="tick", status="pending")
    assert tick["scheduled_for"] == local(2027, 1, 18, 9)
    assert run_worker(offset=local(2027, 1, 16, 12) - db_now()) == 0
    run_worker(offset=local(2027, 1, 18, 9, 1) - db_now())
    assert [r["user_id"] for r in logs(rule_id=rule["id"])] == [u["id"]]


@pytest.mark.parametrize("config, field", [
    ({"offset_hours": 4, "calendar": "Nowhere"}, "trigger_config.calendar"),
    ({"offset_hours": 4, "calendar": ""}, "trigger_config.calendar"),
    ({"offset_hours": "four", "calendar": "default"}, "trigger_config.offset_hours"),
    ({"offset_days": 400, "calendar": "default"}, "trigger_config.offset_days"),
    ({"offset_hours": 4, "calendar": 7}, "trigger_config.calendar"),
    ({"offset_hours": 4, "calendars": "default"}, "trigger_config.calendars"),
])
def test_bad_working_time_offsets_are_422(office, admin_api, config, field):
    r = admin_api.post("/api/v1/sag/reminders/rules", json={
        "name": "Bad", "trigger_type": "deadline", "trigger_config": config, "title_template": "x"})
    assert r.status_code == 422, r.text
    assert field in r.text


def test_unknown_calendar_names_the_known_ones(office, admin_api):
    r = admin_api.post("/api/v1/sag/reminders/rules", json={
        "name": "Bad", "trigger_type": "inactivity", "trigger_config": {"days": 2, "calendar": "Nowhere"},
        "title_template": "x"})
    assert r.status_code == 422
    assert "unknown calendar 'Nowhere'" in r.text and "Office" in r.text
    r = admin_api.post("/api/v1/sag/reminders/rules", json={
        "name": "Bad", "trigger_type": "inactivity", "trigger_config": {"days": 2, "hours": 3},
        "title_template": "x"})
    assert r.status_code == 422


def test_a_calendar_removed_later_counts_as_the_default(office):
    clear_queue()
    temp = calendars.create_calendar(calendars.CalendarIn(name="Temporary", weekly_hours={"sat": DAY}))
    case = make_case(deadline=local(2027, 1, 11, 10))
    rule = make_rule(sag_id=case["id"], trigger_type="deadline",
                     trigger_config={"offset_hours": 4, "calendar": "Temporary"}, title_template="x")
    assert _deadline_event(rule["id"], case["id"])["scheduled_for"] == local(2027, 1, 9, 12)
    database.execute_update("DELETE FROM sag_calendars WHERE id = %s", (temp["id"],))
    database.execute_update("UPDATE sag_sager SET deadline = deadline + interval '1 hour' WHERE id = %s",
                            (case["id"],))
    assert _deadline_event(rule["id"], case["id"])["scheduled_for"] == local(2027, 1, 8, 15)
    assert timedelta(0) < local(2027, 1, 11, 11) - local(2027, 1, 8, 15)
