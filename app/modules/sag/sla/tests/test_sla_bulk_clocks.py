"""Generated cases (cases/bulk.py) get their SLA clocks from sla/bulk_clocks.py, computed from the
story instead of by the server: they are exactly the clocks the case trigger's sag_sla_refresh
computes, for several policies (by priority, by customer, both; pause statuses; an own
calendar), calendars (the default, a customer's own, round the clock) and cases without a policy."""

from datetime import UTC, datetime

import pytest

from app.core import database
from app.modules.sag.cases import bulk
from app.modules.sag.sla import businesstime, calendars
from tests.fixtures import make_user

DAY = [{"start": "08:00", "end": "12:00"}, {"start": "12:30", "end": "16:00"}]
ROUND_THE_CLOCK = [{"start": "00:00", "end": "24:00"}]
CLOCK_COLUMNS = ("policy_id", "calendar_id", "first_response_at", "response_due_at", "response_warn_at",
                 "resolution_due_at", "resolution_warn_at", "paused_minutes", "paused_since")
CASES = 1500


@pytest.fixture(scope="module")
def setup(app):
    for i in range(4):
        make_user(username=f"bulkclock{i}")
    office = calendars.create_calendar(calendars.CalendarIn(
        name="Kontor", is_default=True, weekly_hours={d: DAY for d in ("mon", "tue", "wed", "thu", "fri")}))
    always = calendars.create_calendar(calendars.CalendarIn(
        name="Døgn", country=None, weekly_hours={d: ROUND_THE_CLOCK for d in businesstime.WEEKDAYS}))
    own_policy, own_calendar, plain = (
        database.execute_insert("INSERT INTO customers (name) VALUES (%s) RETURNING id", (name,))
        for name in ("Aftalekunde ApS", "Nattevagt ApS", "Dagkunde A/S"))
    calendars.set_customer_calendar(own_calendar, always["id"])
    # No default policy: normal and low cases of most customers run without a clock.
    for name, priority, customer, calendar, response, resolution, pause in (
            ("Urgent", "urgent", None, always["id"], 15, 120, ()),
            ("High", "high", None, None, 60, 480, ("waiting_customer",)),
            ("Aftale", None, own_policy, None, 120, 960, ("waiting_customer", "on_hold")),
            ("Aftale urgent", "urgent", own_policy, office["id"], 10, 90, ("on_hold",))):
        policy = database.execute_insert(
            "INSERT INTO sag_sla_policies (name, priority, customer_id, calendar_id, response_minutes, "
            "resolution_minutes, warning_percent) VALUES (%s, %s, %s, %s, %s, %s, 70) RETURNING id",
            (name, priority, customer, calendar, response, resolution))
        for status in pause:
            database.execute_update("INSERT INTO sag_sla_pause_statuses (policy_id, status) VALUES (%s, %s)",
                                    (policy, status))
    return {"office": office["id"], "always": always["id"]}


def _clocks(ids: list[int]) -> dict[int, tuple]:
    rows = database.execute_query(f"SELECT sag_id, {', '.join(CLOCK_COLUMNS)} FROM sag_sla_clocks "
                                  "WHERE sag_id = ANY(%s)", (ids,))
    return {r["sag_id"]: tuple(r[c] for c in CLOCK_COLUMNS) for r in rows}


def test_generated_clocks_are_the_ones_the_case_trigger_computes(setup):
    result = bulk.bulk_cases(CASES, now=datetime.now(UTC), batch=400, producers=2)
    ids = list(range(result.first_id, result.first_id + CASES))
    generated = _clocks(ids)
    assert len(generated) == CASES
    with database.transaction():
        database.execute_query("SELECT sag_sla_refresh(id) FROM unnest(%s::integer[]) AS id", (ids,))
    assert _clocks(ids) == generated
    # The sample really holds every kind of clock.
    clocks = generated.values()
    assert {c[1] for c in clocks} == {None, setup["office"], setup["always"]}
    assert len({c[0] for c in clocks}) == 5  # four policies and none
    assert any(c[7] > 0 for c in clocks) and any(c[8] is not None for c in clocks)
    assert any(c[0] is None and c[2] is not None for c in clocks)
