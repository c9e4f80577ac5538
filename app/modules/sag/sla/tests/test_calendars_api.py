"""Calendar API: CRUD with admin-only writes, one default calendar, customer calendars, the
schedule and holidays it answers, and bad input (4xx, never 500, nothing half-written)."""

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core import database
from app.modules.sag.sla import calendars

OFFICE = [{"start": "08:00", "end": "12:00"}, {"start": "12:30", "end": "16:00"}]
WEEK = {d: OFFICE for d in ("mon", "tue", "wed", "thu", "fri")}


def _name() -> str:
    return f"Kontor {uuid.uuid4().hex[:6]}"


def _create(api, **fields) -> dict:
    r = api.post("/api/v1/sag/calendars", json={"name": _name(), "weekly_hours": WEEK, **fields})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def customer_id(admin_api) -> int:
    r = admin_api.post("/api/v1/customers", json={"name": f"Fjordtech {uuid.uuid4().hex[:6]} ApS"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_create_calendar_returns_it_with_every_weekday_and_its_dates(admin_api):
    cal = _create(admin_api, closed_dates=[{"date": "2026-12-24", "note": "Christmas Eve"}],
                  special_days=[{"date": "2026-12-23", "hours": [{"start": "08:00", "end": "12:00"}]}])
    assert cal["timezone"] == "Europe/Copenhagen" and cal["country"] == "DK"
    assert cal["weekly_hours"]["mon"] == OFFICE and cal["weekly_hours"]["sat"] == []
    assert cal["closed_dates"] == [{"date": "2026-12-24", "note": "Christmas Eve"}]
    assert cal["special_days"][0]["hours"] == [{"start": "08:00", "end": "12:00"}]
    r = admin_api.get(f"/api/v1/sag/calendars/{cal['id']}")
    assert r.status_code == 200 and r.json() == cal


def test_schedule_shows_weekdays_holidays_closed_and_special_dates(admin_api, user_api):
    cal = _create(admin_api, closed_dates=[{"date": "2026-12-28"}],
                  special_days=[{"date": "2026-12-23", "hours": [{"start": "08:00", "end": "12:00"}], "note": "Half"}])
    r = user_api.get(f"/api/v1/sag/calendars/{cal['id']}/schedule", params={"from": "2026-12-21", "days": 8})
    assert r.status_code == 200, r.text
    days = {d["date"]: d for d in r.json()["days"]}
    assert days["2026-12-21"]["hours_text"] == "08:00-12:00, 12:30-16:00" and days["2026-12-21"]["reason"] == "weekly"
    assert days["2026-12-23"]["reason"] == "special" and days["2026-12-23"]["hours_text"] == "08:00-12:00"
    assert days["2026-12-25"]["reason"] == "holiday" and days["2026-12-25"]["holiday"] == "Christmas Day"
    assert days["2026-12-26"]["hours"] == [] and days["2026-12-27"]["reason"] == "weekly"
    assert days["2026-12-28"]["reason"] == "closed" and days["2026-12-28"]["hours_text"] == "closed"
    r = user_api.get(f"/api/v1/sag/calendars/{cal['id']}/holidays", params={"from": "2026-12-01", "days": 45})
    assert [h["date"] for h in r.json()] == ["2026-12-25", "2026-12-26", "2027-01-01"]


def test_one_default_calendar_making_another_default_moves_the_mark(admin_api):
    first = _create(admin_api, is_default=True)
    second = _create(admin_api, is_default=True)
    assert admin_api.get(f"/api/v1/sag/calendars/{first['id']}").json()["is_default"] is False
    assert calendars.default_calendar_id() == second["id"]
    r = admin_api.patch(f"/api/v1/sag/calendars/{first['id']}", json={"is_default": True})
    assert r.status_code == 200 and r.json()["is_default"] is True
    assert database.execute_query("SELECT count(*) AS n FROM sag_calendars WHERE is_default")[0]["n"] == 1
    listed = admin_api.get("/api/v1/sag/calendars").json()
    assert listed[0]["id"] == first["id"]
    # The default cannot stop being it (or be deleted) without another default taking over.
    r = admin_api.patch(f"/api/v1/sag/calendars/{first['id']}", json={"is_default": False})
    assert r.status_code == 409 and "another calendar the default" in r.json()["detail"]
    assert admin_api.delete(f"/api/v1/sag/calendars/{first['id']}").status_code == 409


def test_the_first_calendar_becomes_the_default_later_ones_do_not(admin_api):
    database.execute_update("DELETE FROM sag_customer_calendars")
    database.execute_update("DELETE FROM sag_calendars")
    first = _create(admin_api)
    second = _create(admin_api)
    assert first["is_default"] is True and second["is_default"] is False
    assert calendars.default_calendar_id() == first["id"]


def test_a_calendar_written_by_hand_with_overlapping_hours_still_reads_and_computes(admin_api):
    cal_id = database.execute_insert(
        "INSERT INTO sag_calendars (name, weekly_hours) VALUES (%s, %s::jsonb) RETURNING id",
        (_name(), '{"tue": [{"start": "08:00", "end": "12:00"}, {"start": "10:00", "end": "14:00"}]}'))
    r = admin_api.get(f"/api/v1/sag/calendars/{cal_id}/schedule", params={"from": "2026-06-02", "days": 1})
    assert r.status_code == 200 and r.json()["days"][0]["hours_text"] == "08:00-14:00"
    assert admin_api.get(f"/api/v1/sag/calendars/{cal_id}").json()["weekly_hours"]["mon"] == []


def test_the_database_refuses_bad_hours_written_by_hand(db):
    for week in ('{"monday": []}', '{"mon": [{"start": "8:00", "end": "12:00"}]}',
                 '{"mon": [{"start": "12:00", "end": "08:00"}]}', '{"mon": [{"start": "08:00"}]}', '[]'):
        with pytest.raises(Exception, match="sag_calendars_weekly_hours_check"):
            database.execute_insert("INSERT INTO sag_calendars (name, weekly_hours) VALUES (%s, %s::jsonb)",
                                    (_name(), week))


def test_the_database_refuses_a_second_default_calendar(admin_api):
    _create(admin_api, is_default=True)
    with pytest.raises(Exception, match="one_default"):
        database.execute_insert("INSERT INTO sag_calendars (name, is_default) VALUES (%s, TRUE)", (_name(),))


def test_patch_changes_given_fields_and_replaces_date_lists(admin_api):
    cal = _create(admin_api, closed_dates=[{"date": "2026-12-24"}])
    r = admin_api.patch(f"/api/v1/sag/calendars/{cal['id']}", json={
        "weekly_hours": {"sat": [{"start": "10:00", "end": "14:00"}]}, "country": None,
        "special_days": [{"date": "2026-05-01", "hours": [{"start": "09:00", "end": "12:00"}]}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["weekly_hours"]["mon"] == [] and body["weekly_hours"]["sat"] == [{"start": "10:00", "end": "14:00"}]
    assert body["country"] is None and body["name"] == cal["name"]
    assert body["closed_dates"] == [{"date": "2026-12-24", "note": ""}]  # not given: kept
    assert [s["date"] for s in body["special_days"]] == ["2026-05-01"]


def test_writes_need_an_admin_reads_do_not(admin_api, user_api):
    cal = _create(admin_api)
    assert user_api.post("/api/v1/sag/calendars", json={"name": _name()}).status_code == 403
    assert user_api.patch(f"/api/v1/sag/calendars/{cal['id']}", json={"name": "x"}).status_code == 403
    assert user_api.delete(f"/api/v1/sag/calendars/{cal['id']}").status_code == 403
    assert user_api.get("/api/v1/sag/calendars").status_code == 200
    assert user_api.get(f"/api/v1/sag/calendars/{cal['id']}").status_code == 200


def test_customer_gets_its_own_calendar_else_the_default(admin_api, user_api, customer_id):
    default = _create(admin_api, is_default=True)
    own = _create(admin_api)
    r = user_api.get(f"/api/v1/sag/calendars/customers/{customer_id}")
    assert r.json() == {"customer_id": customer_id, "calendar_id": default["id"], "own": False}
    assert user_api.put(f"/api/v1/sag/calendars/customers/{customer_id}",
                        json={"calendar_id": own["id"]}).status_code == 403
    r = admin_api.put(f"/api/v1/sag/calendars/customers/{customer_id}", json={"calendar_id": own["id"]})
    assert r.status_code == 200 and r.json()["own"] is True and r.json()["calendar_id"] == own["id"]
    assert admin_api.get(f"/api/v1/sag/calendars/{own['id']}").json()["customers"][0]["id"] == customer_id
    # A calendar in use cannot be deleted.
    r = admin_api.delete(f"/api/v1/sag/calendars/{own['id']}")
    assert r.status_code == 409 and "customers" in r.json()["detail"]
    assert admin_api.delete(f"/api/v1/sag/calendars/customers/{customer_id}").status_code == 204
    assert user_api.get(f"/api/v1/sag/calendars/customers/{customer_id}").json()["own"] is False
    assert admin_api.delete(f"/api/v1/sag/calendars/customers/{customer_id}").status_code == 404
    assert admin_api.delete(f"/api/v1/sag/calendars/{own['id']}").status_code == 204
    assert admin_api.get(f"/api/v1/sag/calendars/{own['id']}").status_code == 404


def test_load_gives_the_arithmetic_the_stored_calendar(admin_api):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from app.modules.sag.sla.businesstime import add_working_minutes

    cal = _create(admin_api, closed_dates=[{"date": "2026-06-02"}])
    value = calendars.load(cal["id"])
    cph = ZoneInfo("Europe/Copenhagen")
    # Monday 15:30 + 60 working minutes: 30 on Monday, Tuesday closed, 30 on Wednesday.
    assert add_working_minutes(value, datetime(2026, 6, 1, 15, 30, tzinfo=cph), 60) == \
        datetime(2026, 6, 3, 8, 30, tzinfo=cph)


@pytest.mark.parametrize("body, message", [
    ({"name": ""}, "name"),
    ({"name": "x", "timezone": "Mars/Olympus"}, "time zone"),
    ({"name": "x", "timezone": "../../etc"}, "timezone"),
    ({"name": "x", "country": "XX"}, "XX"),
    ({"name": "x", "country": "dk"}, "country"),
    ({"name": "x", "country": "DE", "subdivision": "XX"}, "subdivision"),
    ({"name": "x", "country": None, "subdivision": "BY"}, "subdivision needs a country"),
    ({"name": "x", "weekly_hours": {"mon": [{"start": "12:00", "end": "08:00"}]}}, "end must come after"),
    ({"name": "x", "weekly_hours": {"mon": [{"start": "08:00", "end": "12:00"},
                                            {"start": "11:00", "end": "13:00"}]}}, "overlap"),
    ({"name": "x", "weekly_hours": {"mon": [{"start": "8:00", "end": "12:00"}]}}, "start"),
    ({"name": "x", "weekly_hours": {"mon": [{"start": "08:00", "end": "24:01"}]}}, "end"),
    ({"name": "x", "weekly_hours": {"monday": []}}, "monday"),
    ({"name": "x", "closed_dates": [{"date": "2026-12-24"}],
      "special_days": [{"date": "2026-12-24", "hours": OFFICE}]}, "listed twice"),
    ({"name": "x", "special_days": [{"date": "2026-12-23", "hours": []}]}, "hours"),
    ({"name": "x", "closed_dates": [{"date": "1066-10-14"}]}, "between 2000"),
    ({"name": "x", "closed_dates": [{"date": "2026-02-30"}]}, "date"),
    ({"name": "x\u0000y"}, "NUL"),
    ({"name": "x", "extra": 1}, "extra"),
])
def test_bad_calendars_are_refused_with_422_and_nothing_is_written(admin_api, body, message):
    before = database.execute_query("SELECT count(*) AS n FROM sag_calendars")[0]["n"]
    r = admin_api.post("/api/v1/sag/calendars", json=body)
    assert r.status_code == 422, r.text
    assert message.lower() in r.json()["detail"].lower()
    assert database.execute_query("SELECT count(*) AS n FROM sag_calendars")[0]["n"] == before


def test_bad_patches_and_references_answer_4xx(admin_api, customer_id):
    cal = _create(admin_api)
    other = _create(admin_api)
    r = admin_api.patch(f"/api/v1/sag/calendars/{cal['id']}", json={"name": other["name"].upper()})
    assert r.status_code == 409 and "exists already" in r.json()["detail"]
    r = admin_api.patch(f"/api/v1/sag/calendars/{cal['id']}", json={"subdivision": "XX"})
    assert r.status_code == 422 and "subdivision" in r.json()["detail"].lower()
    r = admin_api.patch(f"/api/v1/sag/calendars/{cal['id']}", json={"country": None, "subdivision": "BY"})
    assert r.status_code == 422
    assert admin_api.get(f"/api/v1/sag/calendars/{cal['id']}").json()["country"] == "DK"
    assert admin_api.patch("/api/v1/sag/calendars/999999", json={"name": "x"}).status_code == 404
    assert admin_api.get("/api/v1/sag/calendars/0").status_code == 422
    assert admin_api.get("/api/v1/sag/calendars/99999999999").status_code == 422
    assert admin_api.get(f"/api/v1/sag/calendars/{cal['id']}/schedule", params={"days": 0}).status_code == 422
    assert admin_api.get(f"/api/v1/sag/calendars/{cal['id']}/schedule",
                         params={"from": "9999-01-01"}).status_code == 422
    assert admin_api.get(f"/api/v1/sag/calendars/{cal['id']}/schedule", params={"from": "nope"}).status_code == 422
    assert admin_api.put(f"/api/v1/sag/calendars/customers/{customer_id}",
                         json={"calendar_id": 999999}).status_code == 404
    assert admin_api.put("/api/v1/sag/calendars/customers/999999",
                         json={"calendar_id": cal["id"]}).status_code == 404
    assert admin_api.put(f"/api/v1/sag/calendars/customers/{customer_id}", json={}).status_code == 422
    assert admin_api.get("/api/v1/sag/calendars/customers/999999").status_code == 404


def test_openapi_states_the_request_constraints(admin_api):
    schema = admin_api.get("/openapi.json").json()["components"]["schemas"]
    interval = schema["Interval"]["properties"]
    assert interval["start"]["pattern"] == r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
    assert "24:00" in interval["end"]["pattern"]
    assert schema["CalendarIn"]["properties"]["name"]["maxLength"] == 80
    assert schema["WeeklyHours"]["additionalProperties"] is False


FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.text(max_size=30),
                    st.sampled_from(["08:00", "24:00", "2026-12-24", "Europe", "Etc", "DK", "DE", "BY", "\x00",
                                     "Europe/Copenhagen", "x" * 200]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.sampled_from(["start", "end", "date", "hours", "note", "mon", "sun"]),
                                             inner, max_size=3), max_leaves=8)
CALENDAR_FIELDS = ["name", "timezone", "weekly_hours", "country", "subdivision", "closed_dates", "special_days",
                   "is_default"]


@FUZZ
@given(body=st.dictionaries(st.sampled_from(CALENDAR_FIELDS), json_values, max_size=5))
def test_any_calendar_body_gets_a_clear_answer_never_a_500(admin_api, body):
    before = database.execute_query("SELECT count(*) AS n FROM sag_calendars")[0]["n"]
    r = admin_api.post("/api/v1/sag/calendars", json=body)
    assert r.status_code in (201, 409, 422), r.text
    after = database.execute_query("SELECT count(*) AS n FROM sag_calendars")[0]["n"]
    assert after == before + (r.status_code == 201)
    target = r.json()["id"] if r.status_code == 201 else calendars.default_calendar_id() or 1
    r = admin_api.patch(f"/api/v1/sag/calendars/{target}", json=body)
    assert r.status_code in (200, 404, 409, 422), r.text
