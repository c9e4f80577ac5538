"""Reminder pages and their JSON (server side): access checks and bad input give clear 4xx."""

from __future__ import annotations

import pytest

from tests.fixtures import login, make_user


@pytest.mark.parametrize("path", ["/sag/reminders", "/sag/reminders/rules", "/sag/reminders/queue",
                                  "/sag/reminders/editor.json", "/sag/1/reminders/history.json",
                                  "/me/notifications"])
def test_pages_need_a_signed_in_user(anon_client, path):
    r = anon_client.get(path, follow_redirects=False, headers={"Accept": "text/html"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["/sag/reminders/rules", "/sag/reminders/queue"])
def test_admin_pages_refuse_other_users(client, path):
    login(client, make_user())
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/sag/reminders/rules", "/sag/reminders/queue"])
def test_admin_pages_render_for_admins(client, path):
    login(client, make_user("admin"))
    r = client.get(path)
    assert r.status_code == 200
    assert "Reminder" in r.text


@pytest.mark.parametrize("query", ["filter=bogus", "channel=sms", "case_id=abc", "case_id=0", "page=0",
                                   "case_id=99999999999999999999"])
def test_my_reminders_refuses_bad_filters(client, query):
    login(client, make_user())
    r = client.get(f"/sag/reminders?{query}")
    assert r.status_code == 422


def test_my_reminders_renders_with_every_filter(client):
    login(client, make_user())
    for f in ("all", "unread", "snoozed", "held_back", "open"):
        for ch in ("in_app", "email", "all"):
            r = client.get(f"/sag/reminders?filter={f}&channel={ch}&case_id=1&page=2")
            assert r.status_code == 200, (f, ch)
            assert "No reminders here." in r.text


def test_the_navigation_has_the_bell_and_the_menus(client):
    login(client, make_user("admin"))
    page = client.get("/").text
    assert 'id="notificationBell"' in page and 'data-api="/api/v1/sag/reminders/mine"' in page
    assert "/static/notifications.js" in page
    assert 'href="/me/notifications"' in page and 'href="/sag/reminders/queue"' in page


def test_editor_choices_list_statuses_and_users(client):
    user = make_user()
    login(client, user)
    data = client.get("/sag/reminders/editor.json").json()
    assert {"key": "new", "label": "New", "label_da": "Ny"} in data["statuses"]  # the editor shows the reader's
    assert any(u["id"] == user["id"] for u in data["users"])
    assert data["user_id"] == user["id"] and data["is_admin"] is False


def test_the_rule_editor_script_comes_from_the_sag_module(client):
    login(client, make_user("admin"))
    page = client.get("/sag/reminders/rules").text
    assert '<script src="/static/modules/sag/reminder_rules.js">' in page
    r = client.get("/static/modules/sag/reminder_rules.js")
    assert r.status_code == 200 and "/api/v1/sag/reminders" in r.text
    assert client.get("/static/reminder_rules.js").status_code == 404
