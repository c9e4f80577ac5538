"""SLA first response (issue 11): the first note by someone other than the case's creator answers
the case, unless the first status change out of `new` came earlier."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.core import database
from app.modules.sag.sla import businesstime, calendars
from tests.fixtures import make_user, token_for

T0 = datetime(2026, 4, 14, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def policy(app):
    """A round-the-clock default calendar and a default policy: answer within 60, solve within 480 minutes."""
    cal = calendars.create_calendar(calendars.CalendarIn(
        name="Døgnet rundt", country=None,
        weekly_hours={d: [{"start": "00:00", "end": "24:00"}] for d in businesstime.WEEKDAYS}))
    database.execute_update("UPDATE sag_calendars SET is_default = (id = %s)", (cal["id"],))
    return database.execute_insert(
        "INSERT INTO sag_sla_policies (name, response_minutes, resolution_minutes) VALUES ('Standard', 60, 480) "
        "RETURNING id")


def _case(creator: dict, changes: list[tuple[datetime, str]] = ()) -> int:
    """A case created by `creator` at T0, with status changes at the given instants."""
    with database.acting_user(creator["id"]), database.transaction():
        case_id = database.execute_insert(
            "INSERT INTO sag_sager (title, created_at) VALUES ('Printer offline', %s) RETURNING id", (T0,))
        for _, status in changes:
            database.execute_update("UPDATE sag_sager SET status = %s WHERE id = %s", (status, case_id))
    with database.transaction():
        rows = database.execute_query("SELECT id FROM sag_status_history WHERE sag_id = %s ORDER BY id", (case_id,))
        for row, at in zip(rows, [T0, *[at for at, _ in changes]], strict=True):
            database.execute_update("UPDATE sag_status_history SET changed_at = %s WHERE id = %s", (at, row["id"]))
        database.execute_query("SELECT sag_sla_refresh(%s)", (case_id,))
    return case_id


def _note(case_id: int, author: dict, at: datetime) -> None:
    database.execute_insert("INSERT INTO sag_notes (sag_id, author_id, body, created_at) VALUES (%s, %s, 'Svar', %s)",
                            (case_id, author["id"], at))


def _clock(case_id: int, at: datetime) -> dict:
    return database.execute_query("SELECT * FROM sag_sla_case(%s, %s)", (case_id, at))[0]


def test_a_note_by_someone_else_is_the_first_response(policy):
    creator, tech = make_user(), make_user()
    case_id = _case(creator)
    _note(case_id, tech, T0 + timedelta(minutes=30))
    clock = _clock(case_id, T0 + timedelta(hours=2))
    assert clock["first_response_at"] == T0 + timedelta(minutes=30)
    assert clock["sla_state"] == "ok"  # answered within 60 minutes; now on the resolution clock


def test_the_creators_own_note_is_not_a_response(policy):
    creator = make_user()
    case_id = _case(creator)
    _note(case_id, creator, T0 + timedelta(minutes=10))
    clock = _clock(case_id, T0 + timedelta(hours=2))
    assert clock["first_response_at"] is None and clock["sla_state"] == "breached"


def test_an_earlier_status_change_wins_over_a_later_note(policy):
    creator, tech = make_user(), make_user()
    case_id = _case(creator, [(T0 + timedelta(minutes=20), "in_progress")])
    _note(case_id, tech, T0 + timedelta(minutes=40))
    database.execute_query("SELECT sag_sla_refresh(%s)", (case_id,))
    assert _clock(case_id, T0 + timedelta(hours=1))["first_response_at"] == T0 + timedelta(minutes=20)


def test_an_earlier_note_wins_over_a_later_status_change(policy):
    creator, tech = make_user(), make_user()
    case_id = _case(creator)
    _note(case_id, tech, T0 + timedelta(minutes=15))
    with database.acting_user(creator["id"]), database.transaction():
        database.execute_update("UPDATE sag_sager SET status = 'in_progress' WHERE id = %s", (case_id,))
    assert _clock(case_id, T0 + timedelta(hours=1))["first_response_at"] == T0 + timedelta(minutes=15)


def test_a_late_note_breaches_the_response_target(policy):
    creator, tech = make_user(), make_user()
    case_id = _case(creator)
    _note(case_id, tech, T0 + timedelta(minutes=90))
    assert _clock(case_id, T0 + timedelta(hours=2))["sla_state"] == "breached"


def test_a_note_through_the_api_answers_a_case_at_once(policy, app, user_api):
    case = user_api.post("/api/v1/sag", json={"title": "Skærm sort"}).json()
    assert case["first_response_at"] is None
    with TestClient(app, headers={"Authorization": f"Bearer {token_for(make_user())}"}) as tech:
        note = tech.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "Jeg tager den"}).json()
    shown = user_api.get(f"/api/v1/sag/{case['id']}").json()
    assert shown["first_response_at"] == note["created_at"]
