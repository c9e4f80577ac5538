"""Per-case SLA clocks kept by PostgreSQL: due times in working time (the SQL arithmetic over
stored calendar spans agrees with the Python reference), a status pause across a weekend and
Easter holidays, both DST nights, a priority change moving the targets, the first response
recorded once, the state on read, and recomputation when a policy or a calendar changes."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import database
from app.modules.sag.sla import businesstime, calendars, spans

CPH = ZoneInfo("Europe/Copenhagen")
UTC = ZoneInfo("UTC")
DAY = [{"start": "08:00", "end": "16:00"}]
ROUND_THE_CLOCK = [{"start": "00:00", "end": "24:00"}]


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CPH)


def _pause_in(policy_id: int) -> None:
    database.execute_update("INSERT INTO sag_sla_pause_statuses (policy_id, status) "
                            "VALUES (%s, 'waiting_customer'), (%s, 'on_hold')", (policy_id, policy_id))


@pytest.fixture(scope="module")
def setup(app):
    """An office calendar (the default; Mon-Fri 08-16, Danish holidays), a round-the-clock
    calendar for one customer, a default policy and one for urgent cases."""
    office = calendars.create_calendar(calendars.CalendarIn(
        name="Office", weekly_hours={d: DAY for d in ("mon", "tue", "wed", "thu", "fri")}))
    always = calendars.create_calendar(calendars.CalendarIn(
        name="Always", country=None, weekly_hours={d: ROUND_THE_CLOCK for d in businesstime.WEEKDAYS}))
    customer = database.execute_insert("INSERT INTO customers (name) VALUES ('Døgnvagt A/S') RETURNING id")
    calendars.set_customer_calendar(customer, always["id"])
    policies = {}
    for name, fields in (("Standard", {}), ("Urgent", {"priority": "urgent"}), ("Døgn", {"customer_id": customer})):
        policies[name] = database.execute_insert(
            "INSERT INTO sag_sla_policies (name, priority, customer_id, response_minutes, resolution_minutes) "
            "VALUES (%(name)s, %(priority)s, %(customer_id)s, %(r)s, %(s)s) RETURNING id",
            {"name": name, "priority": fields.get("priority"), "customer_id": fields.get("customer_id"),
             "r": 15 if name == "Urgent" else 60, "s": 120 if name == "Urgent" else 480 if name == "Standard" else 240})
        _pause_in(policies[name])
    return {"office": office["id"], "always": always["id"], "customer": customer, "policies": policies}


def _case(api, **fields) -> dict:
    r = api.post("/api/v1/sag", json={"title": "Printer offline", **fields})
    assert r.status_code == 201, r.text
    return r.json()


def _status(api, case_id: int, status: str) -> None:
    r = api.post(f"/api/v1/sag/{case_id}/status", json={"status": status})
    assert r.status_code == 200, r.text


def _replay(api, created: datetime, changes: list[tuple[datetime, str]], **fields) -> int:
    """A case whose creation and status changes happened at the given instants: made through
    the API, then its history back-dated, and its clock computed again from that history."""
    case_id = _case(api, **fields)["id"]
    for _, status in changes:
        _status(api, case_id, status)
    times = [created] + [at for at, _ in changes]
    with database.transaction():
        ids = [r["id"] for r in database.execute_query(
            "SELECT id FROM sag_status_history WHERE sag_id = %s ORDER BY id", (case_id,))]
        for history_id, at in zip(ids, times, strict=True):
            database.execute_update("UPDATE sag_status_history SET changed_at = %s WHERE id = %s", (at, history_id))
        database.execute_update("UPDATE sag_sager SET created_at = %s, closed_at = CASE WHEN closed_at IS NOT NULL "
                                "THEN %s END WHERE id = %s", (created, times[-1], case_id))
        database.execute_query("SELECT sag_sla_refresh(%s)", (case_id,))
    return case_id


def _clock(case_id: int, at: datetime | None = None) -> dict:
    return database.execute_query("SELECT * FROM sag_sla_case(%s, COALESCE(%s, now()))", (case_id, at))[0]


def test_sql_working_time_agrees_with_the_python_reference(setup):
    for cal_id in (setup["office"], setup["always"]):
        cal = calendars.load(cal_id)
        start = local(2026, 3, 25, 6, 10)
        for step in range(0, 24 * 20, 7):  # every 7 hours for 20 days: Easter and the spring DST night
            at = start + timedelta(hours=step)
            for minutes in (1, 45, 480, 1000):
                got = database.execute_query("SELECT sag_add_working_minutes(%s, %s, %s) AS t",
                                             (cal_id, at, minutes))[0]["t"]
                assert got == businesstime.add_working_minutes(cal, at, minutes), (cal_id, at, minutes)
            end = at + timedelta(hours=53)
            got = database.execute_query("SELECT sag_working_minutes_between(%s, %s, %s) AS m",
                                         (cal_id, at, end))[0]["m"]
            assert got == pytest.approx(businesstime.working_minutes_between(cal, at, end))


def test_pause_across_a_weekend_and_easter_holidays_moves_the_resolution_due_time(setup, user_api):
    # Wed 1 Apr 2026 09:00; answered 09:30; waiting for the customer from 15:00 until Tue 7 Apr
    # 09:00. Maundy Thursday, Good Friday, the weekend and Easter Monday are closed: 60 + 60
    # paused working minutes, so 480 + 120 minutes from Wednesday 09:00 end on Tuesday 11:00.
    case_id = _replay(user_api, local(2026, 4, 1, 9), [(local(2026, 4, 1, 9, 30), "in_progress"),
                                                      (local(2026, 4, 1, 15), "waiting_customer"),
                                                      (local(2026, 4, 7, 9), "in_progress")])
    clock = _clock(case_id, local(2026, 4, 7, 10))
    assert clock["sla_paused_minutes"] == pytest.approx(120) and clock["sla_paused_since"] is None
    assert clock["resolution_due_at"] == local(2026, 4, 7, 11)
    assert clock["response_due_at"] == local(2026, 4, 1, 10) and clock["first_response_at"] == local(2026, 4, 1, 9, 30)
    assert clock["sla_state"] == "warning" and clock["sla_minutes_left"] == 60  # 75 % of 480 used by 10:00
    assert clock["sla_policy_id"] == setup["policies"]["Standard"] and clock["sla_calendar_id"] == setup["office"]


def test_paused_clock_shows_paused_and_keeps_its_time_left(setup, user_api):
    case_id = _replay(user_api, local(2026, 4, 13, 8), [(local(2026, 4, 13, 8, 20), "in_progress"),
                                                       (local(2026, 4, 13, 12), "on_hold")])
    clock = _clock(case_id, local(2026, 4, 20, 12))  # a week later, still on hold
    assert clock["sla_state"] == "paused" and clock["sla_paused_since"] == local(2026, 4, 13, 12)
    assert clock["sla_minutes_left"] == 240  # 12:00-16:00 of the day it was put on hold


@pytest.mark.parametrize("created, due", [
    (local(2026, 3, 28, 23, 30), datetime(2026, 3, 29, 2, 30, tzinfo=UTC)),  # 02:00 -> 03:00: 04:30 CEST
    (local(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),  # 03:00 -> 02:00: 03:30 CET
])
def test_dst_nights_count_real_working_minutes(setup, user_api, created, due):
    case_id = _replay(user_api, created, [], customer_id=setup["customer"])
    clock = _clock(case_id, created)
    assert clock["sla_calendar_id"] == setup["always"] and clock["sla_policy_id"] == setup["policies"]["Døgn"]
    assert clock["resolution_due_at"] == due  # 240 minutes of a round-the-clock calendar
    assert clock["response_due_at"] == created + timedelta(minutes=60)


def test_priority_change_moves_the_targets(setup, user_api):
    case = _case(user_api)
    cal = calendars.load(setup["office"])
    created = case["created_at"] if isinstance(case["created_at"], datetime) else datetime.fromisoformat(
        case["created_at"])
    assert datetime.fromisoformat(case["response_due_at"]) == businesstime.add_working_minutes(cal, created, 60)
    r = user_api.patch(f"/api/v1/sag/{case['id']}", json={"version": case["version"], "priority": "urgent"})
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["sla_policy_id"] == setup["policies"]["Urgent"]
    assert datetime.fromisoformat(moved["response_due_at"]) == businesstime.add_working_minutes(cal, created, 15)
    assert datetime.fromisoformat(moved["resolution_due_at"]) == businesstime.add_working_minutes(cal, created, 120)
    assert moved["sla_state"] in ("ok", "warning", "breached")


def test_first_response_is_the_first_status_change_out_of_new_and_recorded_once(setup, user_api):
    case = _case(user_api)
    assert case["first_response_at"] is None and case["sla_state"] in ("ok", "warning", "breached")
    for status in ("in_progress", "new", "in_progress", "on_hold"):
        _status(user_api, case["id"], status)
    first = database.execute_query("SELECT changed_at FROM sag_status_history WHERE sag_id = %s AND "
                                   "to_status = 'in_progress' ORDER BY id LIMIT 1", (case["id"],))[0]["changed_at"]
    shown = user_api.get(f"/api/v1/sag/{case['id']}").json()
    assert datetime.fromisoformat(shown["first_response_at"]) == first
    assert shown["sla_paused_since"] is not None and shown["sla_state"] in ("paused", "breached")
    listed = {c["id"]: c for c in user_api.get("/api/v1/sag", params={"q": f"#{case['id']}"}).json()["items"]}
    assert listed[case["id"]]["first_response_at"] == shown["first_response_at"]


@pytest.mark.parametrize("changes, at, state", [
    ([], local(2026, 4, 14, 8, 30), "ok"),
    ([], local(2026, 4, 14, 8, 50), "warning"),  # 75 % of the 60-minute response target
    ([], local(2026, 4, 14, 9, 30), "breached"),  # not answered within 60 minutes
    ([(local(2026, 4, 14, 8, 20), "in_progress")], local(2026, 4, 14, 12), "ok"),
    ([(local(2026, 4, 14, 8, 20), "in_progress")], local(2026, 4, 14, 14, 30), "warning"),
    ([(local(2026, 4, 14, 8, 20), "in_progress")], local(2026, 4, 14, 16, 1), "breached"),
    ([(local(2026, 4, 14, 9, 30), "in_progress")], local(2026, 4, 14, 12), "breached"),  # answered late
    ([(local(2026, 4, 14, 8, 20), "in_progress"), (local(2026, 4, 14, 11), "closed")], local(2026, 4, 20), "met"),
    ([(local(2026, 4, 14, 8, 20), "in_progress"), (local(2026, 4, 15, 9), "closed")], local(2026, 4, 20),
     "breached"),
])
def test_state_is_computed_on_read_from_the_due_times(setup, user_api, changes, at, state):
    case_id = _replay(user_api, local(2026, 4, 14, 8), changes)
    assert _clock(case_id, at)["sla_state"] == state


def test_breached_and_paused_cases_report_which_due_time_counts(setup, user_api):
    case_id = _replay(user_api, local(2026, 4, 14, 8), [])
    clock = _clock(case_id, local(2026, 4, 14, 9, 35))
    assert clock["sla_due_at"] == local(2026, 4, 14, 9) and clock["sla_minutes_left"] is None


def test_policy_and_calendar_changes_recompute_open_cases_not_closed_ones(setup, user_api):
    open_id = _replay(user_api, local(2026, 5, 4, 8), [(local(2026, 5, 4, 9), "in_progress")])
    closed_id = _replay(user_api, local(2026, 5, 4, 8), [(local(2026, 5, 4, 9), "closed")])
    closed_before = _clock(closed_id)["resolution_due_at"]
    policy = setup["policies"]["Standard"]
    database.execute_update("UPDATE sag_sla_policies SET resolution_minutes = 960 WHERE id = %s", (policy,))
    try:
        assert _clock(open_id)["resolution_due_at"] == local(2026, 5, 5, 16)
        assert _clock(closed_id)["resolution_due_at"] == closed_before
        # Tuesday 5 May closed: the due time moves to Wednesday.
        calendars.update_calendar(setup["office"], calendars.CalendarPatch(closed_dates=[{"date": "2026-05-05"}]))
        assert _clock(open_id)["resolution_due_at"] == local(2026, 5, 6, 16)
    finally:
        database.execute_update("UPDATE sag_sla_policies SET resolution_minutes = 480 WHERE id = %s", (policy,))
        calendars.update_calendar(setup["office"], calendars.CalendarPatch(closed_dates=[]))


def test_cases_without_a_policy_have_no_clock_but_a_first_response(setup, user_api):
    database.execute_update("DELETE FROM sag_sla_policies WHERE name = 'Standard'")
    try:
        case = _case(user_api)
        _status(user_api, case["id"], "in_progress")
        shown = user_api.get(f"/api/v1/sag/{case['id']}").json()
        assert shown["sla_state"] is None and shown["response_due_at"] is None and shown["first_response_at"]
    finally:
        setup["policies"]["Standard"] = database.execute_insert(
            "INSERT INTO sag_sla_policies (name, response_minutes, resolution_minutes) VALUES ('Standard', 60, 480) "
            "RETURNING id")
        _pause_in(setup["policies"]["Standard"])


def test_a_status_change_made_in_sql_updates_the_clock(setup, user_api):
    case_id = _case(user_api)["id"]
    database.execute_update("UPDATE sag_sager SET status = 'on_hold' WHERE id = %s", (case_id,))
    clock = _clock(case_id)
    assert clock["first_response_at"] is not None and clock["sla_paused_since"] is not None


def test_calendars_without_spans_far_enough_ahead_are_written_again(setup, user_api):
    case_id = _replay(user_api, local(2026, 6, 1, 8), [])
    due = _clock(case_id)["response_due_at"]
    database.execute_update("DELETE FROM sag_calendar_spans WHERE calendar_id = %s", (setup["office"],))
    assert _clock(case_id)["response_due_at"] is None  # no spans: unknown, not wrong
    assert setup["office"] in spans.refresh_stale()
    assert _clock(case_id)["response_due_at"] == due
    assert spans.refresh_stale() == []
    # Years later the stored spans no longer reach far enough ahead.
    later = spans.stale_calendars(date(2026 + spans.SPAN_YEARS_AHEAD, 6, 1))
    assert setup["office"] in later and setup["always"] in later
