"""Reminder destinations: the API and admin pages (create, rename, replace the URL, delete, test
message), the URL as a secret (never shown again, never logged) and bad input refused with 4xx."""

from __future__ import annotations

import logging
import uuid

import pytest

from app.core import database
from app.core.config import get_settings
from app.modules.sag.reminders.tests.reminders_helpers import make_rule
from app.modules.sag.reminders.tests.webhook_receiver import Receiver
from tests.fixtures import login, make_user

API = "/api/v1/sag/reminders/destinations"
SECRET = "hookTOKENs3cr3t"


def _name(prefix: str = "Webhook") -> str:
    return f"{prefix}: PSA {uuid.uuid4().hex[:6]}"


@pytest.fixture
def admin_client(client):
    client.csrf = login(client, make_user("admin"))
    return client


def _create(api, url: str, name: str | None = None) -> dict:
    r = api.post(API, json={"name": name or _name(), "url": url})
    assert r.status_code == 201, r.text
    return r.json()


def test_create_destination_makes_the_slug_from_the_name_and_shows_only_scheme_and_host(admin_api, user_api):
    suffix = uuid.uuid4().hex[:6]
    dest = _create(admin_api, f"json://127.0.0.1:9/{SECRET}?token={SECRET}", name=f"Teams: Drift {suffix}")
    assert dest["slug"] == f"teams-drift-{suffix}" and dest["channel"] == f"dest:teams-drift-{suffix}"
    assert (dest["url_scheme"], dest["url_host"]) == ("json", "127.0.0.1:9")
    assert "url" not in dest and "url_sealed" not in dest
    listed = user_api.get(API)
    assert listed.status_code == 200 and dest["id"] in [d["id"] for d in listed.json()]
    assert SECRET not in listed.text and SECRET not in user_api.get(f"{API}/{dest['id']}").text


def test_stored_url_is_sealed_not_plain(admin_api):
    dest = _create(admin_api, f"form://127.0.0.1:9/{SECRET}")
    row = database.execute_query("SELECT url_sealed FROM sag_destinations WHERE id = %s", (dest["id"],))[0]
    assert row["url_sealed"].startswith("v1.") and SECRET not in row["url_sealed"]


def test_rename_keeps_the_slug_and_a_new_url_replaces_the_old(admin_api):
    with Receiver() as rx:
        dest = _create(admin_api, "json://127.0.0.1:9/old")
        r = admin_api.patch(f"{API}/{dest['id']}", json={"name": "Slack #support " + uuid.uuid4().hex[:4],
                                                         "url": f"json://127.0.0.1:{rx.port}/new"})
        assert r.status_code == 200, r.text
        assert r.json()["slug"] == dest["slug"] and r.json()["url_host"] == f"127.0.0.1:{rx.port}"
        assert admin_api.post(f"{API}/{dest['id']}/test").json() == {"sent": True, "error": None}
        assert [p for _m, p, _h, _b in rx.requests] == ["/new"]


def test_send_test_message_reports_a_failure_without_the_url(admin_api):
    with Receiver(statuses=[500]) as rx:
        dest = _create(admin_api, f"json://127.0.0.1:{rx.port}/{SECRET}")
        r = admin_api.post(f"{API}/{dest['id']}/test")
    assert r.status_code == 200 and r.json()["sent"] is False
    assert "500" in r.json()["error"] and SECRET not in r.json()["error"]
    assert rx.json_bodies()[0]["title"] == "Test message from BMC Hub"


@pytest.mark.parametrize("body, field", [
    ({"name": "Webhook: bad", "url": "ftp://example.com/x"}, "url"),
    ({"name": "Webhook: bad", "url": "example.com/hook"}, "url"),
    ({"name": "Webhook: bad", "url": "https://example.com/hook"}, "url"),
    ({"name": "x" * 81, "url": "json://127.0.0.1/x"}, "name"),
    ({"name": "  ", "url": "json://127.0.0.1/x"}, "name"),
    ({"name": "!!!", "url": "json://127.0.0.1/x"}, "name"),
    ({"name": "Webhook: bad", "url": "json://127.0.0.1/" + "x" * 2001}, "url"),
    ({"name": "Webhook: bad", "url": "json://[::1/x"}, "url"),
    ({"name": "Webhook: bad", "url": "json://127.0.0.1:99999/x"}, "url"),
    ({"name": "Webhook: bad", "url": "json://127.0.0.1/x", "secret": True}, "secret"),
])
def test_bad_destination_input_is_refused_with_422(admin_api, body, field):
    before = database.execute_query("SELECT count(*) AS n FROM sag_destinations")[0]["n"]
    r = admin_api.post(API, json=body)
    assert r.status_code == 422, r.text
    assert field in r.text
    assert database.execute_query("SELECT count(*) AS n FROM sag_destinations")[0]["n"] == before


def test_a_name_giving_a_taken_slug_is_refused_with_409(admin_api):
    name = _name()
    _create(admin_api, "json://127.0.0.1/x", name=name)
    r = admin_api.post(API, json={"name": name.upper() + "!", "url": "json://127.0.0.1/y"})
    assert r.status_code == 409 and "exists already" in r.text


def test_rule_naming_an_unknown_destination_is_refused_with_422(admin_api):
    r = admin_api.post("/api/v1/sag/reminders/rules", json={
        "name": "To nowhere", "trigger_type": "status_change", "trigger_config": {"from": "any", "to": "any"},
        "recipients": {"assignee": True}, "channels": ["in_app", "dest:no-such-place"],
        "title_template": "x"})
    assert r.status_code == 422 and "dest:no-such-place" in r.text
    r = admin_api.post("/api/v1/sag/reminders/rules", json={
        "name": "Bad name", "trigger_type": "status_change", "trigger_config": {"from": "any", "to": "any"},
        "recipients": {"assignee": True}, "channels": ["dest:Not A Slug"], "title_template": "x"})
    assert r.status_code == 422


def test_destination_used_by_a_rule_cannot_be_deleted_until_the_rule_lets_go(admin_api):
    dest = _create(admin_api, "json://127.0.0.1/x")
    rule = make_rule(channels=["in_app", dest["channel"]], name="Drift rule " + uuid.uuid4().hex[:4])
    r = admin_api.delete(f"{API}/{dest['id']}")
    assert r.status_code == 409 and rule["name"] in r.text
    assert admin_api.get(f"{API}/{dest['id']}").json()["rules"] == [{"id": rule["id"], "name": rule["name"]}]
    r = admin_api.patch(f"/api/v1/sag/reminders/rules/{rule['id']}", json={"channels": ["in_app"]})
    assert r.status_code == 200
    assert admin_api.delete(f"{API}/{dest['id']}").status_code == 204
    assert admin_api.get(f"{API}/{dest['id']}").status_code == 404


def test_only_admins_change_destinations(admin_api, user_api):
    dest = _create(admin_api, "json://127.0.0.1/x")
    assert user_api.post(API, json={"name": _name(), "url": "json://127.0.0.1/x"}).status_code == 403
    assert user_api.patch(f"{API}/{dest['id']}", json={"name": "Mine"}).status_code == 403
    assert user_api.delete(f"{API}/{dest['id']}").status_code == 403
    assert user_api.post(f"{API}/{dest['id']}/test").status_code == 403


def test_admin_pages_create_edit_test_and_never_show_the_url(admin_client):
    c = admin_client
    with Receiver() as rx:
        url = f"form://127.0.0.1:{rx.port}/{SECRET}"
        name = _name("Slack")
        r = c.post("/sag/reminders/destinations/new", data={"name": name, "url": url, "csrf_token": c.csrf},
                   follow_redirects=False)
        assert r.status_code == 303, r.text
        page_url = r.headers["location"].split("?")[0]
        page = c.get(page_url)
        assert page.status_code == 200 and name in page.text and SECRET not in page.text
        assert f"form://127.0.0.1:{rx.port}" in page.text
        tested = c.post(page_url + "/test", data={"csrf_token": c.csrf})
        assert tested.status_code == 200 and "Test message sent" in tested.text
        assert rx.form_bodies()[0]["title"] == "Test message from BMC Hub"
        # Saving with the URL field left empty keeps the stored URL.
        renamed = name + " renamed"
        r = c.post(page_url, data={"name": renamed, "url": "", "csrf_token": c.csrf}, follow_redirects=False)
        assert r.status_code == 303
        assert c.post(page_url + "/test", data={"csrf_token": c.csrf}).status_code == 200
        assert len(rx.requests) == 2
    listing = c.get("/sag/reminders/destinations")
    assert renamed in listing.text and SECRET not in listing.text
    assert "Reminder destinations" in c.get("/sag/reminders/queue").text  # the admin menu entry


def test_admin_page_refuses_bad_url_with_the_form_again(admin_client):
    c = admin_client
    r = c.post("/sag/reminders/destinations/new", data={"name": _name(), "url": "gopher://x", "csrf_token": c.csrf})
    assert r.status_code == 422 and "not a valid Apprise URL" in r.text
    r = c.post("/sag/reminders/destinations/new", data={"name": _name(), "url": "json://127.0.0.1/x"})
    assert r.status_code == 403  # no CSRF token


def test_destination_pages_are_for_admins_only(client):
    login(client, make_user("user"))
    assert client.get("/sag/reminders/destinations").status_code == 403
    assert client.get("/sag/reminders/destinations/new").status_code == 403


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture
def hub_log():
    """Every record that reaches the root logger (where the hub's console and file handlers are), at debug level."""
    handler, root = _Collect(), logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_the_url_is_never_logged(admin_api, hub_log):
    with Receiver(statuses=[500, 200]) as rx:
        dest = _create(admin_api, f"json://user:{SECRET}pw@127.0.0.1:{rx.port}/{SECRET}?key={SECRET}")
        assert admin_api.post(f"{API}/{dest['id']}/test").json()["sent"] is False
        assert admin_api.post(f"{API}/{dest['id']}/test").json()["sent"] is True
        admin_api.patch(f"{API}/{dest['id']}", json={"url": f"json://127.0.0.1:{rx.port}/{SECRET}2"})
    assert len(rx.requests) == 2 and SECRET in rx.requests[0][1]  # it did go to the secret path
    assert len([line for line in hub_log if "test message" in line]) == 2  # the hub did log the tests
    assert [line for line in hub_log if SECRET in line] == []
    log_file = get_settings().log_file
    assert not log_file.exists() or SECRET not in log_file.read_text(errors="replace")
