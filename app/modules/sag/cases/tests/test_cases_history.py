"""Status history and closed_at are kept by the database, whatever path changes a case."""

import psycopg
import pytest

from app.core import database
from tests.fixtures import make_user


def _history(case_id: int) -> list[dict]:
    return database.execute_query(
        "SELECT from_status, to_status, changed_by, note FROM sag_status_history WHERE sag_id = %s ORDER BY id",
        (case_id,))


def _case(case_id: int) -> dict:
    return database.execute_query("SELECT * FROM sag_sager WHERE id = %s", (case_id,))[0]


def test_api_status_changes_are_recorded_with_the_acting_user(user_api):
    case = user_api.post("/api/v1/sag", json={"title": "Backup fejlede i nat"}).json()
    user_api.post(f"/api/v1/sag/{case['id']}/status", json={"status": "in_progress"})
    user_api.post(f"/api/v1/sag/{case['id']}/status", json={"status": "resolved", "note": "Kørt igen"})
    me = user_api.user["id"]
    assert _history(case["id"]) == [
        {"from_status": None, "to_status": "new", "changed_by": me, "note": None},
        {"from_status": "new", "to_status": "in_progress", "changed_by": me, "note": None},
        {"from_status": "in_progress", "to_status": "resolved", "changed_by": me, "note": "Kørt igen"},
    ]


def test_raw_sql_status_change_still_gets_a_history_row(db):
    case_id = database.execute_insert("INSERT INTO sag_sager (title) VALUES ('NAS svarer ikke')")
    # A separate plain connection, as psql would be: no acting user is set.
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("UPDATE sag_sager SET status = 'on_hold' WHERE id = %s", (case_id,))
    assert _history(case_id) == [
        {"from_status": None, "to_status": "new", "changed_by": None, "note": None},
        {"from_status": "new", "to_status": "on_hold", "changed_by": None, "note": None},
    ]


def test_raw_sql_with_acting_user_records_that_user(db):
    user = make_user()
    case_id = database.execute_insert("INSERT INTO sag_sager (title) VALUES ('VPN falder ud')")
    with database.acting_user(user["id"]), database.transaction():
        database.execute_update("UPDATE sag_sager SET status = 'in_progress' WHERE id = %s", (case_id,))
    assert _history(case_id)[-1]["changed_by"] == user["id"]


def test_creator_defaults_to_the_acting_user(db):
    user = make_user()
    with database.acting_user(user["id"]), database.transaction():
        case_id = database.execute_insert("INSERT INTO sag_sager (title) VALUES ('Ny bærbar')")
    assert _case(case_id)["created_by"] == user["id"]
    assert _history(case_id)[0]["changed_by"] == user["id"]


def test_updates_that_do_not_touch_status_write_no_history(db):
    case_id = database.execute_insert("INSERT INTO sag_sager (title) VALUES ('Skærm flimrer')")
    database.execute_update("UPDATE sag_sager SET priority = 'high', status = 'new' WHERE id = %s", (case_id,))
    assert len(_history(case_id)) == 1


def test_closed_at_is_set_on_close_kept_between_closed_statuses_and_cleared_on_reopen(user_api):
    case = user_api.post("/api/v1/sag", json={"title": "UPS bipper"}).json()
    assert case["closed_at"] is None
    resolved = user_api.post(f"/api/v1/sag/{case['id']}/status", json={"status": "resolved"}).json()
    assert resolved["case"]["closed_at"] is not None
    closed = user_api.post(f"/api/v1/sag/{case['id']}/status", json={"status": "closed"}).json()
    assert closed["case"]["closed_at"] == resolved["case"]["closed_at"]
    reopened = user_api.post(f"/api/v1/sag/{case['id']}/status", json={"status": "in_progress"}).json()
    assert reopened["case"]["closed_at"] is None


def test_closed_at_follows_raw_sql_and_cannot_be_cleared_on_a_closed_case(db):
    case_id = database.execute_insert("INSERT INTO sag_sager (title, status) VALUES ('Gammel sag', 'closed')")
    assert _case(case_id)["closed_at"] is not None
    database.execute_update("UPDATE sag_sager SET closed_at = NULL WHERE id = %s", (case_id,))
    assert _case(case_id)["closed_at"] is not None
    database.execute_update("UPDATE sag_sager SET status = 'new' WHERE id = %s", (case_id,))
    assert _case(case_id)["closed_at"] is None
    database.execute_update("UPDATE sag_sager SET closed_at = now() WHERE id = %s", (case_id,))
    assert _case(case_id)["closed_at"] is None


def test_version_counts_real_changes_only(db):
    case_id = database.execute_insert("INSERT INTO sag_sager (title) VALUES ('Licensgennemgang')")
    assert _case(case_id)["version"] == 1
    database.execute_update("UPDATE sag_sager SET title = title WHERE id = %s", (case_id,))
    assert _case(case_id)["version"] == 1
    database.execute_update("UPDATE sag_sager SET title = 'Licensgennemgang 2026' WHERE id = %s", (case_id,))
    assert _case(case_id)["version"] == 2


def test_an_unknown_status_is_refused_by_the_database(db):
    case_id = database.execute_insert("INSERT INTO sag_sager (title) VALUES ('Firewall-regel')")
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do; the point is no bad row
        database.execute_update("UPDATE sag_sager SET status = 'done' WHERE id = %s", (case_id,))
    assert _case(case_id)["status"] == "new"
    assert len(_history(case_id)) == 1


def test_history_is_part_of_the_same_transaction(db):
    case_id = database.execute_insert("INSERT INTO sag_sager (title) VALUES ('Rulles tilbage')")
    try:
        with database.transaction():
            database.execute_update("UPDATE sag_sager SET status = 'closed' WHERE id = %s", (case_id,))
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert _case(case_id)["status"] == "new" and len(_history(case_id)) == 1
