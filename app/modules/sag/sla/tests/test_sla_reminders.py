"""The `sla` reminder trigger: each threshold of a response or resolution target fires once,
through a real worker, at its share of the target in working time; a status pause across a
weekend and Easter moves it (nothing fires while paused), a DST night counts real minutes, a
priority change moves pending thresholds without firing a fired one again, and a met target
cancels. Cases are dated in 2027 so their thresholds lie ahead; the worker's injectable clock
runs forward to them."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import database
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    db_now,
    events,
    logs,
    make_case,
    make_rule,
    run_worker,
    set_status,
)
from app.modules.sag.sla import businesstime, calendars
from tests.fixtures import make_user

CPH = ZoneInfo("Europe/Copenhagen")
UTC = ZoneInfo("UTC")
DAY = [{"start": "08:00", "end": "16:00"}]
ROUND_THE_CLOCK = [{"start": "00:00", "end": "24:00"}]
TITLE = "{{ sla.threshold }} % of the {{ sla.target }} target of #{{ case.number }} (due {{ sla.due_at | datetime }})"


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CPH)


@pytest.fixture(scope="module")
def setup(app):
    """The default calendar (Mon-Fri 08-16, Danish holidays) with a default and an urgent
    policy; a round-the-clock calendar for one customer's policy."""
    office = calendars.create_calendar(calendars.CalendarIn(
        name="Office", weekly_hours={d: DAY for d in ("mon", "tue", "wed", "thu", "fri")}))
    always = calendars.create_calendar(calendars.CalendarIn(
        name="Always", country=None, weekly_hours={d: ROUND_THE_CLOCK for d in businesstime.WEEKDAYS}))
    customer = database.execute_insert("INSERT INTO customers (name) VALUES ('Nattevagt ApS') RETURNING id")
    policies = {}
    for name, priority, cust, cal, response, resolution in (
            ("Standard", None, None, None, 60, 480), ("Urgent", "urgent", None, None, 15, 120),
            ("Night", None, customer, always["id"], 60, 240)):
        policies[name] = database.execute_insert(
            "INSERT INTO sag_sla_policies (name, priority, customer_id, calendar_id, response_minutes, "
            "resolution_minutes) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (name, priority, cust, cal, response, resolution))
        database.execute_update("INSERT INTO sag_sla_pause_statuses (policy_id, status) "
                                "VALUES (%s, 'waiting_customer'), (%s, 'on_hold')", (policies[name],) * 2)
    return {"office": office["id"], "always": always["id"], "customer": customer, "policies": policies}


@pytest.fixture
def tech(setup):
    clear_queue()
    return make_user()


def _replay(created: datetime, changes: list[tuple[datetime, str]], **fields) -> int:
    """A case created, and its status changed, at the given instants (history re-dated, clock recomputed)."""
    case_id = make_case(**fields)["id"]
    # These tests count the SLA firings a worker sends; the watched-case news of the same status
    # changes is conversation/tests' business, so nobody watches these cases.
    database.execute_update("UPDATE sag_watchers SET unwatched = TRUE WHERE sag_id = %s", (case_id,))
    for _, status in changes:
        set_status(case_id, status)
    _redate(case_id, [created] + [at for at, _ in changes])
    return case_id


def _redate(case_id: int, times: list[datetime]) -> None:
    with database.transaction():
        ids = [r["id"] for r in database.execute_query(
            "SELECT id FROM sag_status_history WHERE sag_id = %s ORDER BY id", (case_id,))]
        for history_id, at in zip(ids, times, strict=True):
            database.execute_update("UPDATE sag_status_history SET changed_at = %s WHERE id = %s", (at, history_id))
        database.execute_update("UPDATE sag_sager SET created_at = %s WHERE id = %s", (times[0], case_id))
        database.execute_query("SELECT sag_sla_refresh(%s)", (case_id,))


def _change(case_id: int, at: datetime, status: str) -> None:
    """One more status change, made now and dated `at`."""
    set_status(case_id, status)
    times = [r["changed_at"] for r in database.execute_query(
        "SELECT changed_at FROM sag_status_history WHERE sag_id = %s ORDER BY id", (case_id,))]
    _redate(case_id, times[:-1] + [at])


def _pending(rule_id: int, case_id: int) -> dict[tuple[str, int], datetime]:
    return {(e["event_data"]["target"], e["event_data"]["percent"]): e["scheduled_for"]
            for e in events(reminder_id=rule_id, sag_id=case_id, status="pending")}


def _run_at(at: datetime) -> int:
    """Run a worker whose clock reads one minute past `at`."""
    return run_worker(offset=at - db_now() + timedelta(minutes=1))


def _sla_rule(case_id: int, thresholds: list[int], target: str = "resolution") -> dict:
    return make_rule(name=f"SLA {target} {thresholds}", sag_id=case_id, trigger_type="sla",
                     trigger_config={"target": target, "thresholds": thresholds}, title_template=TITLE)


def test_each_threshold_fires_once_through_a_worker(setup, tech):
    # Wed 13 Jan 2027 09:00, answered 09:30: 480 working minutes end Thu 09:00; 75 % at Wed 15:00.
    case_id = _replay(local(2027, 1, 13, 9), [(local(2027, 1, 13, 9, 30), "in_progress")],
                      assigned_to=tech["id"])
    rule = _sla_rule(case_id, [75, 100])
    assert _pending(rule["id"], case_id) == {("resolution", 75): local(2027, 1, 13, 15),
                                             ("resolution", 100): local(2027, 1, 14, 9)}
    assert _run_at(local(2027, 1, 13, 14, 58)) == 0
    assert _run_at(local(2027, 1, 13, 15)) == 1
    [fired] = logs(rule_id=rule["id"])
    assert fired["user_id"] == tech["id"] and fired["channel"] == "in_app" and fired["status"] == "sent"
    assert fired["title"] == f"75 % of the resolution target of #{case_id} (due 2027-01-14 09:00)"
    # A re-plan (the clock recomputed, the rule saved again) and a second worker add nothing.
    database.execute_query("SELECT sag_sla_refresh(%s), sag_schedule_sla(NULL, NULL)", (case_id,))
    assert _run_at(local(2027, 1, 13, 15, 30)) == 0
    assert list(_pending(rule["id"], case_id)) == [("resolution", 100)]
    assert _run_at(local(2027, 1, 14, 9)) == 1
    assert [r["title"].split(" % ")[0] for r in logs(rule_id=rule["id"])] == ["75", "100"]
    assert _run_at(local(2027, 1, 15, 9)) == 0
    keys = database.execute_query("SELECT target, percent FROM sag_sla_thresholds WHERE sag_id = %s "
                                  "ORDER BY percent", (case_id,))
    assert [(k["target"], k["percent"]) for k in keys] == [("resolution", 75), ("resolution", 100)]


def test_a_pause_across_a_weekend_and_easter_moves_the_thresholds(setup, tech):
    # Wed 24 Mar 2027 09:00, answered 09:30, waiting for the customer from 14:00 until Tue 30
    # Mar 09:00 (Maundy Thursday, Good Friday, the weekend, Easter Monday closed): 180 paused
    # working minutes. 75 % (360 + 180) ends Tue 10:00, 100 % (480 + 180) Tue 12:00.
    case_id = _replay(local(2027, 3, 24, 9), [(local(2027, 3, 24, 9, 30), "in_progress"),
                                              (local(2027, 3, 24, 14), "waiting_customer")],
                      assigned_to=tech["id"])
    rule = _sla_rule(case_id, [75, 100])
    assert _pending(rule["id"], case_id) == {}  # paused: nothing planned
    assert _run_at(local(2027, 3, 29, 12)) == 0  # the unpaused 75 % instant (Wed 15:00) is long past
    _change(case_id, local(2027, 3, 30, 9), "in_progress")
    assert _pending(rule["id"], case_id) == {("resolution", 75): local(2027, 3, 30, 10),
                                             ("resolution", 100): local(2027, 3, 30, 12)}
    assert _run_at(local(2027, 3, 30, 10)) == 1
    # On hold again at 11:00: the breach threshold is cancelled, and nothing fires while paused.
    _change(case_id, local(2027, 3, 30, 11), "on_hold")
    [cancelled] = [e for e in events(reminder_id=rule["id"], sag_id=case_id) if e["status"] == "cancelled"
                   and e["event_data"]["percent"] == 100]
    assert cancelled["last_error"] == "clock paused"
    assert _run_at(local(2027, 3, 31, 12)) == 0
    # Resumed Wed 31 Mar 08:00 (16:00 is closing): 60 minutes were left, so the breach is 09:00.
    _change(case_id, local(2027, 3, 31, 8), "in_progress")
    assert _pending(rule["id"], case_id) == {("resolution", 100): local(2027, 3, 31, 9)}
    assert _run_at(local(2027, 3, 31, 9)) == 1
    assert [r["title"][:3] for r in logs(rule_id=rule["id"])] == ["75 ", "100"]


def test_a_dst_night_counts_real_working_minutes(setup, tech):
    # Round the clock from Sat 27 Mar 2027 23:30 CET; clocks go 02:00 -> 03:00 that night.
    case_id = _replay(local(2027, 3, 27, 23, 30), [(local(2027, 3, 27, 23, 40), "in_progress")],
                      customer_id=setup["customer"], assigned_to=tech["id"])
    rule = _sla_rule(case_id, [75, 100])
    assert _pending(rule["id"], case_id) == {("resolution", 75): datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
                                             ("resolution", 100): datetime(2027, 3, 28, 2, 30, tzinfo=UTC)}
    assert local(2027, 3, 28, 4, 30) == datetime(2027, 3, 28, 2, 30, tzinfo=UTC)  # 04:30 CEST


def test_a_priority_change_moves_pending_thresholds_and_never_refires(setup, tech):
    # Mon 18 Jan 2027 09:00, answered 09:10. Normal: 480 minutes (50 % Mon 13:00, due Tue 09:00);
    # urgent: 120 minutes (50 % Mon 10:00, due Mon 11:00).
    case_id = _replay(local(2027, 1, 18, 9), [(local(2027, 1, 18, 9, 10), "in_progress")],
                      assigned_to=tech["id"])
    rule = _sla_rule(case_id, [50, 100])
    before = {e["event_data"]["percent"]: e["id"] for e in events(reminder_id=rule["id"], status="pending")}
    database.execute_update("UPDATE sag_sager SET priority = 'urgent' WHERE id = %s", (case_id,))
    assert _pending(rule["id"], case_id) == {("resolution", 50): local(2027, 1, 18, 10),
                                             ("resolution", 100): local(2027, 1, 18, 11)}
    # Moved in place: the same events, not new ones.
    assert {e["event_data"]["percent"]: e["id"] for e in events(reminder_id=rule["id"], status="pending")} == before
    assert _run_at(local(2027, 1, 18, 10)) == 1
    database.execute_update("UPDATE sag_sager SET priority = 'normal' WHERE id = %s", (case_id,))
    # 50 % fired already (for this rule, case and target): only the breach moves back.
    assert _pending(rule["id"], case_id) == {("resolution", 100): local(2027, 1, 19, 9)}
    assert _run_at(local(2027, 1, 18, 13)) == 0
    assert _run_at(local(2027, 1, 19, 9)) == 1
    assert len(logs(rule_id=rule["id"])) == 2


def test_a_cancelled_threshold_is_armed_again_when_the_target_returns(setup, tech):
    case_id = _replay(local(2027, 1, 20, 9), [(local(2027, 1, 20, 9, 5), "in_progress")], assigned_to=tech["id"])
    rule = _sla_rule(case_id, [75])
    database.execute_update("DELETE FROM sag_sla_policies WHERE name = 'Standard'")
    try:
        assert _pending(rule["id"], case_id) == {}
        [gone] = events(reminder_id=rule["id"], sag_id=case_id)
        assert gone["status"] == "cancelled" and gone["last_error"] == "no SLA"
    finally:
        setup["policies"]["Standard"] = database.execute_insert(
            "INSERT INTO sag_sla_policies (name, response_minutes, resolution_minutes) VALUES ('Standard', 60, 480) "
            "RETURNING id")
    assert _pending(rule["id"], case_id) == {("resolution", 75): local(2027, 1, 20, 15)}


def test_a_met_target_cancels_its_thresholds(setup, tech):
    case_id = _replay(local(2027, 2, 1, 9), [], assigned_to=tech["id"])
    response = _sla_rule(case_id, [50, 100], target="response")
    resolution = _sla_rule(case_id, [100])
    assert _pending(response["id"], case_id) == {("response", 50): local(2027, 2, 1, 9, 30),
                                                 ("response", 100): local(2027, 2, 1, 10)}
    _change(case_id, local(2027, 2, 1, 9, 20), "in_progress")  # the first response
    assert _pending(response["id"], case_id) == {}
    assert {e["last_error"] for e in events(reminder_id=response["id"], sag_id=case_id)} == {"target met"}
    assert list(_pending(resolution["id"], case_id)) == [("resolution", 100)]
    set_status(case_id, "closed")
    assert _pending(resolution["id"], case_id) == {}
    assert _run_at(local(2027, 2, 3, 9)) == 0
    assert logs(sag_id=case_id) == []


def test_a_new_rule_does_not_announce_a_breach_that_happened_before_it(setup, tech):
    case_id = make_case(assigned_to=tech["id"])["id"]
    _redate(case_id, [db_now() - timedelta(days=30)])
    rule = _sla_rule(case_id, [50, 100], target="response")
    assert _pending(rule["id"], case_id) == {}


def test_a_replan_while_a_worker_holds_the_threshold_does_not_queue_it_again(setup, tech):
    case_id = _replay(local(2027, 1, 25, 9), [(local(2027, 1, 25, 9, 10), "in_progress")], assigned_to=tech["id"])
    rule = _sla_rule(case_id, [50])
    # A worker claims the 50 % firing (Mon 13:00) and has not finished it when the target moves.
    claimed = database.execute_query(
        "SELECT id FROM sag_claim_reminder_events('slow worker', 10, 60, %s)",
        (local(2027, 1, 25, 13, 1),))
    assert len(claimed) == 1
    database.execute_update("UPDATE sag_sager SET priority = 'urgent' WHERE id = %s", (case_id,))
    assert _pending(rule["id"], case_id) == {}
    # Its lease runs out; another worker takes it over and sends it once.
    assert _run_at(local(2027, 1, 25, 13, 5)) == 1
    assert len(logs(rule_id=rule["id"])) == 1
    database.execute_update("UPDATE sag_sager SET priority = 'normal' WHERE id = %s", (case_id,))
    assert _run_at(local(2027, 1, 26, 9)) == 0


def _planned(rule_id: int) -> tuple[list, list]:
    thresholds = database.execute_query(
        "SELECT sag_id, target, percent, event_id IS NOT NULL AS armed, fire_at FROM sag_sla_thresholds "
        "WHERE reminder_id = %s ORDER BY sag_id, target, percent", (rule_id,))
    # A threshold already past fires at once: its event is scheduled at the planning's now(),
    # which two plannings in two transactions never share; it is compared as "at once".
    queued = database.execute_query(
        "SELECT sag_id, kind, trigger_type, event_data, dedup_key, status, "
        "       CASE WHEN scheduled_for > (event_data->>'fire_at')::timestamptz THEN 'at once' "
        "            ELSE scheduled_for::text END AS scheduled_for "
        "FROM sag_reminder_queue WHERE reminder_id = %s ORDER BY id", (rule_id,))
    return thresholds, queued


@pytest.mark.parametrize(("target", "thresholds"), [("response", [50, 100]), ("resolution", [75, 100])])
def test_a_new_global_rule_plans_every_open_case_as_the_per_case_loop_does(setup, tech, target, thresholds):
    # Open cases of every kind: running, answered, paused, breached before the rule, another policy.
    now = db_now()
    _replay(now - timedelta(hours=2), [])
    _replay(now - timedelta(hours=1), [(now - timedelta(minutes=30), "in_progress")])
    _replay(now - timedelta(hours=3), [(now - timedelta(hours=2), "in_progress"),
                                       (now - timedelta(hours=1), "waiting_customer")])
    _replay(now - timedelta(days=30), [])
    _replay(now - timedelta(minutes=20), [], customer_id=setup["customer"], priority="urgent")
    rule = make_rule(name=f"SLA all {target}", trigger_type="sla",
                     trigger_config={"target": target, "thresholds": thresholds}, title_template=TITLE)
    set_based = _planned(rule["id"])
    assert any(t["armed"] for t in set_based[0]) and any(not t["armed"] for t in set_based[0])
    # The same rule planned again from nothing through the row-by-row loop (cases given).
    with database.transaction():
        database.execute_update("DELETE FROM sag_sla_thresholds WHERE reminder_id = %s", (rule["id"],))
        database.execute_update("DELETE FROM sag_reminder_queue WHERE reminder_id = %s", (rule["id"],))
        database.execute_query("SELECT sag_schedule_sla(ARRAY(SELECT id FROM sag_sager WHERE closed_at IS NULL), %s)",
                               (rule["id"],))
    assert _planned(rule["id"]) == set_based
    database.execute_update("UPDATE sag_reminders SET active = FALSE WHERE id = %s", (rule["id"],))
