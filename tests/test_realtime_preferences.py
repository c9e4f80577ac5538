"""Notification preferences: the API (GET/PUT /api/v1/notifications/preferences) and the page."""

from __future__ import annotations

import pytest

from app.core import database
from tests.fixtures import login, make_user

URL = "/api/v1/notifications/preferences"
VALID = {
    "in_app_enabled": False, "email_enabled": True, "quiet_hours_start": "22:00", "quiet_hours_end": "07:00",
    "max_per_hour": 12, "trigger_overrides": {"deadline": {"email": False}, "recurring": {"in_app": True}},
    "timezone": "America/New_York",
}


def stored(user_id: int) -> dict:
    return database.execute_query(
        "SELECT p.*, u.timezone FROM user_notification_preferences p JOIN users u ON u.id = p.user_id "
        "WHERE p.user_id = %s", (user_id,))[0]


def test_defaults_are_returned_for_a_new_user(user_api):
    r = user_api.get(URL)
    assert r.status_code == 200
    body = r.json()
    assert body["in_app_enabled"] is True and body["email_enabled"] is True
    assert body["quiet_hours_start"] is None and body["max_per_hour"] is None
    assert body["trigger_overrides"] == {} and body["timezone"] == "Europe/Copenhagen"


def test_saving_preferences_stores_every_field(user_api):
    r = user_api.put(URL, json=VALID)
    assert r.status_code == 200, r.text
    assert r.json()["quiet_hours_start"] == "22:00:00"
    row = stored(user_api.user["id"])
    assert row["in_app_enabled"] is False and row["max_per_hour"] == 12
    assert str(row["quiet_hours_end"]) == "07:00:00" and row["timezone"] == "America/New_York"
    assert row["trigger_overrides"] == {"deadline": {"email": False}, "recurring": {"in_app": True}}


@pytest.mark.parametrize("change, field", [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"quiet_hours_end": None}, "Quiet hours need both"),
    ({"quiet_hours_end": "22:00"}, "different times"),
    ({"max_per_hour": 0}, "max_per_hour"),
    ({"max_per_hour": "many"}, "max_per_hour"),
    ({"trigger_overrides": {"birthday": {"email": True}}}, "trigger_overrides"),
    ({"trigger_overrides": {"deadline": {"sms": True}}}, "trigger_overrides"),
    ({"in_app_enabled": "perhaps"}, "in_app_enabled"),
    ({"quiet_hours_start": "25:99"}, "quiet_hours_start"),
    ({"timezone": "x" * 500}, "timezone"),
    ({"colour": "red"}, "colour"),
])
def test_invalid_preferences_are_refused_and_nothing_is_written(user_api, change, field):
    before = stored(user_api.user["id"])
    r = user_api.put(URL, json={**VALID, **change})
    assert r.status_code == 422
    assert field in r.text
    assert stored(user_api.user["id"]) == before


def test_malformed_json_is_a_clear_4xx(user_api):
    r = user_api.put(URL, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422


def test_preferences_need_a_signed_in_user(anon_client):
    assert anon_client.get(URL).status_code == 401
    assert anon_client.put(URL, json=VALID).status_code == 401


def test_the_page_shows_and_saves_preferences(client):
    user = make_user()
    csrf = login(client, user)
    page = client.get("/me/notifications")
    assert page.status_code == 200 and "Notification preferences" in page.text
    r = client.post("/me/notifications", data={
        "csrf_token": csrf, "email_enabled": "1", "quiet_hours_enabled": "1", "quiet_hours_start": "21:30",
        "quiet_hours_end": "06:45", "max_per_hour": "5", "timezone": "Europe/London",
        "override_deadline_in_app": "off", "override_status_change_email": "on"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/me/notifications?notice=saved"
    row = stored(user["id"])
    assert row["in_app_enabled"] is False and row["email_enabled"] is True and row["max_per_hour"] == 5
    assert row["timezone"] == "Europe/London"
    assert row["trigger_overrides"] == {"deadline": {"in_app": False}, "status_change": {"email": True}}
    again = client.get("/me/notifications?notice=saved")
    assert 'value="21:30"' in again.text and "Saved." in again.text


def test_the_page_shows_validation_messages_next_to_the_fields(client):
    user = make_user()
    csrf = login(client, user)
    r = client.post("/me/notifications", data={
        "csrf_token": csrf, "in_app_enabled": "1", "max_per_hour": "0", "timezone": "Nowhere/City"})
    assert r.status_code == 422
    assert 'data-error-for="max_per_hour"' in r.text and 'data-error-for="timezone"' in r.text
    assert stored(user["id"])["max_per_hour"] is None


def test_the_page_post_needs_the_csrf_token(client):
    user = make_user()
    login(client, user)
    r = client.post("/me/notifications", data={"in_app_enabled": "1", "timezone": "UTC"})
    assert r.status_code == 403


def test_a_put_without_timezone_keeps_the_users_zone(user_api):
    assert user_api.put(URL, json=VALID).status_code == 200
    body = {k: v for k, v in VALID.items() if k != "timezone"}
    r = user_api.put(URL, json={**body, "max_per_hour": 5})
    assert r.status_code == 200
    assert r.json()["timezone"] == "America/New_York"
    assert stored(user_api.user["id"])["timezone"] == "America/New_York"
    assert stored(user_api.user["id"])["max_per_hour"] == 5


def test_the_kinds_are_those_the_enabled_modules_declare(user_api, admin_api, client):
    kinds = user_api.get("/api/v1/notifications/kinds").json()
    assert {"key": "status_change", "label": "Status changes", "defaults": {}} in kinds
    assert {"key": "watch", "label": "Watched cases", "defaults": {"in_app": True, "email": False}} in kinds
    assert {k["key"] for k in kinds} >= {"scheduled", "deadline", "recurring", "inactivity", "mention"}
    assert user_api.put(URL, json=VALID).status_code == 200
    assert admin_api.post("/api/v1/modules/sag/disable").status_code == 200
    try:
        assert user_api.get("/api/v1/notifications/kinds").json() == []
        # Stored overrides of a disabled module's kinds are kept, but not shown or accepted.
        assert user_api.get(URL).json()["trigger_overrides"] == {}
        r = user_api.put(URL, json=VALID)
        assert r.status_code == 422 and "unknown kind 'deadline'" in r.text
        login(client, make_user())
        assert "Per kind of notification" not in client.get("/me/notifications").text
    finally:
        assert admin_api.post("/api/v1/modules/sag/enable").status_code == 200
    assert stored(user_api.user["id"])["trigger_overrides"] == VALID["trigger_overrides"]
    assert set(user_api.get(URL).json()["trigger_overrides"]) == {"deadline", "recurring"}
