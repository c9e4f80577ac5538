"""The set-based recompute (`sag_sla_refresh_cases`, used when a policy or a calendar changes)
gives exactly the clocks the per-case function `sag_sla_refresh` gives, for a mix of cases:
running, answered, paused (now and earlier), closed in time and late, reopened, on two
calendars, with and without a policy; and a calendar change recomputes open cases once."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import database
from app.modules.sag.sla import businesstime, calendars

CPH = ZoneInfo("Europe/Copenhagen")
DAY = [{"start": "08:00", "end": "12:00"}, {"start": "12:30", "end": "16:00"}]
ROUND_THE_CLOCK = [{"start": "00:00", "end": "24:00"}]
CLOCK_COLUMNS = ("policy_id", "calendar_id", "first_response_at", "response_due_at", "response_warn_at",
                 "resolution_due_at", "resolution_warn_at", "paused_minutes", "paused_since")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CPH)


@pytest.fixture(scope="module")
def setup(app):
    office = calendars.create_calendar(calendars.CalendarIn(
        name="Kontor", weekly_hours={d: DAY for d in ("mon", "tue", "wed", "thu", "fri")}))
    always = calendars.create_calendar(calendars.CalendarIn(
        name="Døgn", country=None, weekly_hours={d: ROUND_THE_CLOCK for d in businesstime.WEEKDAYS}))
    own = database.execute_insert("INSERT INTO customers (name) VALUES ('Nattevagt ApS') RETURNING id")
    plain = database.execute_insert("INSERT INTO customers (name) VALUES ('Dagkunde A/S') RETURNING id")
    calendars.set_customer_calendar(own, always["id"])
    policies = {}
    for name, priority, response, resolution in (("Standard", None, 60, 480), ("Urgent", "urgent", 15, 120),
                                                 ("Low", "low", 240, 2400)):
        policies[name] = database.execute_insert(
            "INSERT INTO sag_sla_policies (name, priority, response_minutes, resolution_minutes, warning_percent) "
            "VALUES (%s, %s, %s, %s, 80) RETURNING id", (name, priority, response, resolution))
        database.execute_update("INSERT INTO sag_sla_pause_statuses (policy_id, status) VALUES (%s, 'on_hold'), "
                                "(%s, 'waiting_customer')", (policies[name], policies[name]))
    return {"office": office["id"], "always": always["id"], "own": own, "plain": plain, "policies": policies}


def _case(created: datetime, changes: list[tuple[datetime, str]], **fields) -> int:
    """A case with the given creation time and status history, written in SQL."""
    with database.transaction():
        case_id = database.execute_insert(
            "INSERT INTO sag_sager (title, customer_id, priority) VALUES ('Server nede', %s, %s) RETURNING id",
            (fields.get("customer_id"), fields.get("priority", "normal")))
        for _, status in changes:
            database.execute_update("UPDATE sag_sager SET status = %s WHERE id = %s", (status, case_id))
        ids = [r["id"] for r in database.execute_query(
            "SELECT id FROM sag_status_history WHERE sag_id = %s ORDER BY id", (case_id,))]
        for history_id, at in zip(ids, [created] + [at for at, _ in changes], strict=True):
            database.execute_update("UPDATE sag_status_history SET changed_at = %s WHERE id = %s", (at, history_id))
        database.execute_update("UPDATE sag_sager SET created_at = %s WHERE id = %s", (created, case_id))
    return case_id


@pytest.fixture(scope="module")
def cases(setup) -> list[int]:
    start = local(2026, 3, 30, 9, 10)  # the week before Easter, then Easter, then the DST night is behind
    made = []
    for i in range(6):
        t = start + timedelta(days=i * 3, minutes=17 * i)
        for fields in ({}, {"priority": "urgent"}, {"priority": "low", "customer_id": setup["own"]},
                       {"customer_id": setup["plain"]}):
            made += [
                _case(t, [], **fields),
                _case(t, [(t + timedelta(minutes=20), "in_progress")], **fields),
                _case(t, [(t + timedelta(minutes=40), "in_progress"), (t + timedelta(hours=5), "waiting_customer")],
                      **fields),
                _case(t, [(t + timedelta(minutes=5), "in_progress"), (t + timedelta(hours=3), "on_hold"),
                          (t + timedelta(days=4, hours=2), "in_progress"),
                          (t + timedelta(days=4, hours=6), "waiting_customer"),
                          (t + timedelta(days=5), "in_progress")], **fields),
                _case(t, [(t + timedelta(minutes=30), "in_progress"), (t + timedelta(hours=2), "resolved")],
                      **fields),
                _case(t, [(t + timedelta(hours=30), "in_progress"), (t + timedelta(days=9), "closed"),
                          (t + timedelta(days=10), "in_progress"), (t + timedelta(days=11), "closed")], **fields),
            ]
    return made


def _clocks(ids: list[int]) -> dict[int, tuple]:
    rows = database.execute_query(f"SELECT sag_id, {', '.join(CLOCK_COLUMNS)} FROM sag_sla_clocks "
                                  "WHERE sag_id = ANY(%s)", (ids,))
    return {r["sag_id"]: tuple(r[c] for c in CLOCK_COLUMNS) for r in rows}


def _per_case(ids: list[int]) -> dict[int, tuple]:
    with database.transaction():
        for case_id in ids:
            database.execute_query("SELECT sag_sla_refresh(%s)", (case_id,))
    return _clocks(ids)


def _set_based(ids: list[int]) -> dict[int, tuple]:
    with database.transaction():
        database.execute_update("UPDATE sag_sla_clocks SET policy_id = NULL, calendar_id = NULL, "
                                "first_response_at = NULL, response_due_at = NULL, response_warn_at = NULL, "
                                "resolution_due_at = NULL, resolution_warn_at = NULL, paused_minutes = 0, "
                                "paused_since = NULL WHERE sag_id = ANY(%s)", (ids,))
        database.execute_query("SELECT sag_sla_refresh_cases(%s)", (ids,))
    return _clocks(ids)


def test_set_based_recompute_equals_the_per_case_function(cases, setup):
    expected = _per_case(cases)
    assert len(expected) == len(cases)
    kinds = {"paused now": 0, "paused before": 0, "closed": 0, "always calendar": 0}
    for clock in expected.values():
        kinds["paused now"] += clock[8] is not None
        kinds["paused before"] += clock[7] > 0
        kinds["always calendar"] += clock[1] == setup["always"]
    kinds["closed"] = database.execute_query("SELECT count(*) AS n FROM sag_sager WHERE id = ANY(%s) "
                                             "AND closed_at IS NOT NULL", (cases,))[0]["n"]
    assert all(kinds.values()), kinds  # the mix really has every kind of case
    assert _set_based(cases) == expected


def test_set_based_recompute_equals_per_case_without_a_fitting_policy(cases, setup):
    policy = setup["policies"]["Standard"]
    database.execute_update("UPDATE sag_sla_policies SET priority = 'high' WHERE id = %s", (policy,))
    try:
        expected = _per_case(cases)
        assert any(c[0] is None and c[3] is None and c[2] is not None for c in expected.values())
        assert _set_based(cases) == expected
    finally:
        database.execute_update("UPDATE sag_sla_policies SET priority = NULL WHERE id = %s", (policy,))


def test_a_calendar_change_recomputes_open_cases_like_the_per_case_function(cases, setup):
    closed = {r["id"] for r in database.execute_query(
        "SELECT id FROM sag_sager WHERE id = ANY(%s) AND closed_at IS NOT NULL", (cases,))}
    before = _clocks(cases)
    calendars.update_calendar(setup["office"], calendars.CalendarPatch(
        closed_dates=[{"date": "2026-04-08"}, {"date": "2026-04-14"}]))
    try:
        after = _clocks(cases)
        moved = [i for i in cases if after[i] != before[i]]
        assert moved and not closed & set(moved)  # open cases moved; closed ones kept their clock
        assert _per_case([i for i in cases if i not in closed]) == {i: after[i] for i in cases if i not in closed}
    finally:
        calendars.update_calendar(setup["office"], calendars.CalendarPatch(closed_dates=[]))
    assert _clocks(cases) == before


def test_renaming_a_calendar_does_not_touch_the_clocks(cases, setup):
    stamp = database.execute_query("SELECT max(updated_at) AS t FROM sag_sla_clocks")[0]["t"]
    calendars.update_calendar(setup["always"], calendars.CalendarPatch(name="Døgnåbent"))
    assert database.execute_query("SELECT max(updated_at) AS t FROM sag_sla_clocks")[0]["t"] == stamp


def test_a_note_by_someone_else_answers_the_case_in_both_recomputes(setup):
    creator = database.execute_insert("INSERT INTO users (username, email, password_hash) "
                                      "VALUES ('opretter', 'opretter@example.test', 'x') RETURNING id")
    colleague = database.execute_insert("INSERT INTO users (username, email, password_hash) "
                                        "VALUES ('kollega', 'kollega@example.test', 'x') RETURNING id")
    t = local(2026, 4, 14, 9, 0)
    by_colleague, by_creator = _case(t, []), _case(t, [(t + timedelta(hours=3), "in_progress")])
    for case_id, author, at in ((by_colleague, colleague, t + timedelta(minutes=25)),
                                (by_creator, creator, t + timedelta(minutes=10))):
        database.execute_update("UPDATE sag_sager SET created_by = %s WHERE id = %s", (creator, case_id))
        database.execute_insert("INSERT INTO sag_notes (sag_id, author_id, body, created_at) "
                                "VALUES (%s, %s, 'Ringer kunden op', %s) RETURNING id", (case_id, author, at))
    expected = _per_case([by_colleague, by_creator])
    assert expected[by_colleague][2] == t + timedelta(minutes=25)  # the colleague's note answered it
    assert expected[by_creator][2] == t + timedelta(hours=3)  # the creator's own note does not count
    assert _set_based([by_colleague, by_creator]) == expected


def test_the_clock_a_status_change_leaves_is_the_full_recompute(setup):
    # Status changes between running statuses take the trigger's short path; pauses and closing
    # take the full one. Either way the stored clock is what a recompute from scratch gives.
    made = []
    for fields in ({}, {"priority": "urgent"}, {"customer_id": setup["own"]}):
        case_id = database.execute_insert("INSERT INTO sag_sager (title, customer_id, priority) "
                                          "VALUES ('Printer', %s, %s) RETURNING id",
                                          (fields.get("customer_id"), fields.get("priority", "normal")))
        made.append(case_id)
        for status in ("in_progress", "waiting_customer", "in_progress", "resolved", "in_progress", "new",
                       "in_progress"):
            database.execute_update("UPDATE sag_sager SET status = %s WHERE id = %s", (status, case_id))
            stored = _clocks([case_id])
            assert _per_case([case_id]) == stored, status
    assert all(c[2] is not None for c in _clocks(made).values())  # each was answered
