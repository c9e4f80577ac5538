"""Cases API: create, read, update with optimistic concurrency, status, assign, bad input."""

import uuid

import pytest

from app.core import database
from tests.fixtures import make_user


@pytest.fixture
def customer_id(user_api) -> int:
    r = user_api.post("/api/v1/customers", json={"name": f"Kystdata {uuid.uuid4().hex[:6]} ApS"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _new_case(api, **fields) -> dict:
    body = {"title": f"Printer på 1. sal virker ikke {uuid.uuid4().hex[:4]}", **fields}
    r = api.post("/api/v1/sag", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_create_case_returns_it_with_defaults_and_location(user_api, customer_id):
    r = user_api.post("/api/v1/sag", json={"title": "  Opsætning af ny medarbejder  ",
                                           "customer_id": customer_id, "deadline": "2030-01-15T09:00:00"})
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["title"] == "Opsætning af ny medarbejder"
    assert case["status"] == "new" and case["priority"] == "normal" and case["version"] == 1
    assert case["created_by"] == user_api.user["id"]
    assert case["customer_id"] == customer_id and case["customer_name"]
    assert r.headers["location"] == f"/api/v1/sag/{case['id']}"
    assert r.headers["etag"] == '"1"'
    # A deadline without a zone is wall-clock time in the user's zone (Europe/Copenhagen, UTC+1).
    assert case["deadline"].startswith("2030-01-15T08:00:00")


def test_read_case_includes_history(user_api):
    case = _new_case(user_api)
    r = user_api.get(f"/api/v1/sag/{case['id']}")
    assert r.status_code == 200
    body = r.json()
    assert body["history"][0]["from_status"] is None
    assert body["history"][0]["to_status"] == "new"
    assert body["history"][0]["changed_by"] == user_api.user["id"]


def test_update_with_current_version_changes_fields_and_bumps_version(user_api, customer_id):
    case = _new_case(user_api)
    r = user_api.patch(f"/api/v1/sag/{case['id']}", json={
        "version": 1, "priority": "urgent", "customer_id": customer_id, "description": "Server nede"})
    assert r.status_code == 200, r.text
    assert r.json()["priority"] == "urgent" and r.json()["version"] == 2
    assert r.headers["etag"] == '"2"'


def test_stale_update_is_refused_with_409_and_writes_nothing(user_api):
    case = _new_case(user_api)
    assert user_api.patch(f"/api/v1/sag/{case['id']}", json={"version": 1, "title": "Første"}).status_code == 200
    r = user_api.patch(f"/api/v1/sag/{case['id']}", json={"version": 1, "title": "Anden"})
    assert r.status_code == 409
    assert "changed by someone else" in r.json()["detail"]
    assert user_api.get(f"/api/v1/sag/{case['id']}").json()["title"] == "Første"


def test_if_match_header_is_the_same_precondition(user_api):
    case = _new_case(user_api)
    ok = user_api.patch(f"/api/v1/sag/{case['id']}", json={"priority": "high"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200
    stale = user_api.patch(f"/api/v1/sag/{case['id']}", json={"priority": "low"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409


def test_update_without_version_is_refused_with_428(user_api):
    case = _new_case(user_api)
    r = user_api.patch(f"/api/v1/sag/{case['id']}", json={"priority": "high"})
    assert r.status_code == 428
    assert "version" in r.json()["detail"]


def test_status_cannot_be_changed_through_patch(user_api):
    case = _new_case(user_api)
    r = user_api.patch(f"/api/v1/sag/{case['id']}", json={"version": 1, "status": "closed"})
    assert r.status_code == 422
    assert r.json()["field"] == "status" and "/status" in r.json()["detail"]


def test_status_change_returns_the_history_entry(user_api):
    case = _new_case(user_api)
    r = user_api.post(f"/api/v1/sag/{case['id']}/status", json={"status": "in_progress", "note": "Kigger på det"})
    assert r.status_code == 200, r.text
    entry = r.json()
    assert entry["from_status"] == "new" and entry["to_status"] == "in_progress"
    assert entry["changed_by"] == user_api.user["id"] and entry["note"] == "Kigger på det"
    assert entry["case"]["version"] == 2


def test_status_change_to_unknown_status_is_422(user_api):
    case = _new_case(user_api)
    r = user_api.post(f"/api/v1/sag/{case['id']}/status", json={"status": "done"})
    assert r.status_code == 422
    assert "Unknown status" in r.json()["detail"]


def test_status_change_to_same_status_is_409(user_api):
    case = _new_case(user_api)
    r = user_api.post(f"/api/v1/sag/{case['id']}/status", json={"status": "new"})
    assert r.status_code == 409


def test_status_change_with_stale_expectation_is_409(user_api):
    case = _new_case(user_api)
    user_api.post(f"/api/v1/sag/{case['id']}/status", json={"status": "on_hold"})
    r = user_api.post(f"/api/v1/sag/{case['id']}/status",
                      json={"status": "closed", "expected_status": "new"})
    assert r.status_code == 409
    r = user_api.post(f"/api/v1/sag/{case['id']}/status", json={"status": "closed", "version": 1})
    assert r.status_code == 409
    assert user_api.get(f"/api/v1/sag/{case['id']}").json()["status"] == "on_hold"


def test_assign_and_unassign(user_api):
    other = make_user()
    case = _new_case(user_api)
    r = user_api.post(f"/api/v1/sag/{case['id']}/assign", json={"user_id": other["id"]})
    assert r.status_code == 200 and r.json()["assigned_to"] == other["id"]
    r = user_api.post(f"/api/v1/sag/{case['id']}/assign", json={"user_id": None, "version": r.json()["version"]})
    assert r.status_code == 200 and r.json()["assigned_to"] is None


def test_assign_to_unknown_or_deactivated_user_is_422(user_api):
    case = _new_case(user_api)
    r = user_api.post(f"/api/v1/sag/{case['id']}/assign", json={"user_id": 987654})
    assert r.status_code == 422 and "does not exist" in r.json()["detail"]
    gone = make_user(active=False)
    r = user_api.post(f"/api/v1/sag/{case['id']}/assign", json={"user_id": gone["id"]})
    assert r.status_code == 422 and "deactivated" in r.json()["detail"]


@pytest.mark.parametrize("body, field", [
    ({"title": "x" * 201}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "ok", "status": "done"}, "status"),
    ({"title": "ok", "customer_id": 987654}, "customer_id"),
    ({"title": "ok", "assigned_to": 987654}, "assigned_to"),
    ({"title": "ok", "priority": "critical"}, "priority"),
    ({"title": "ok", "customer_id": "abc"}, "customer_id"),
    ({"title": 42}, "title"),
    ({"title": "ok", "deadline": "tomorrow"}, "deadline"),
    ({"title": "ok", "deadline": "1900-01-01T00:00:00Z"}, "deadline"),
    ({"title": "ok", "customer_id": 2**40}, "customer_id"),
    ({"title": "ok", "unknown": 1}, "unknown"),
    ({"title": "a\x00b"}, "title"),
    ({"title": "ok", "description": "nul \x00"}, "description"),
])
def test_bad_input_on_create_is_a_clear_4xx(user_api, body, field):
    before = database.execute_query("SELECT count(*) AS n FROM sag_sager")[0]["n"]
    r = user_api.post("/api/v1/sag", json=body)
    assert r.status_code == 422, r.text
    assert field in r.text
    assert database.execute_query("SELECT count(*) AS n FROM sag_sager")[0]["n"] == before


def test_malformed_json_is_422(user_api):
    r = user_api.post("/api/v1/sag", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422


def test_overlong_title_on_update_is_422(user_api):
    case = _new_case(user_api)
    r = user_api.patch(f"/api/v1/sag/{case['id']}", json={"version": 1, "title": "y" * 201})
    assert r.status_code == 422 and "title" in r.text


def test_unknown_case_is_404(user_api):
    assert user_api.get("/api/v1/sag/99999999").status_code == 404
    assert user_api.patch("/api/v1/sag/99999999", json={"version": 1}).status_code == 404
    assert user_api.post("/api/v1/sag/99999999/status", json={"status": "closed"}).status_code == 404


def test_hostile_html_is_stored_as_text(user_api):
    case = _new_case(user_api, description="<script>alert(1)</script>")
    assert user_api.get(f"/api/v1/sag/{case['id']}").json()["description"] == "<script>alert(1)</script>"


def test_only_admins_delete_cases(user_api, admin_api):
    case = _new_case(user_api)
    assert user_api.delete(f"/api/v1/sag/{case['id']}").status_code == 403
    assert admin_api.delete(f"/api/v1/sag/{case['id']}").status_code == 204
    assert user_api.get(f"/api/v1/sag/{case['id']}").status_code == 404


def test_anonymous_requests_are_401(anon_client):
    assert anon_client.get("/api/v1/sag").status_code == 401
    assert anon_client.post("/api/v1/sag", json={"title": "x"}).status_code == 401


def test_statuses_are_listed_in_order(user_api):
    keys = [s["key"] for s in user_api.get("/api/v1/sag/statuses").json()]
    assert keys == ["new", "in_progress", "waiting_customer", "on_hold", "resolved", "closed"]


def test_nul_characters_in_search_or_note_are_422(user_api):
    case = _new_case(user_api)
    r = user_api.post(f"/api/v1/sag/{case['id']}/status", json={"status": "closed", "note": "a\x00"})
    assert r.status_code == 422 and "note" in r.text
    r = user_api.get("/api/v1/sag", params={"q": "a\x00b"})
    assert r.status_code == 422 and r.json()["field"] == "q"


def test_keeping_a_since_deactivated_assignee_is_allowed(user_api):
    leaver = make_user()
    case = _new_case(user_api, assigned_to=leaver["id"])
    database.execute_update("UPDATE users SET active = FALSE WHERE id = %s", (leaver["id"],))
    r = user_api.patch(f"/api/v1/sag/{case['id']}", json={
        "version": 1, "title": "Fratrædelse: luk konto", "assigned_to": leaver["id"]})
    assert r.status_code == 200 and r.json()["assigned_to"] == leaver["id"]
