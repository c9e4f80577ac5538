"""webshop: once enabled, its migrations ran, its routes answer, its page shows its customers.

The shared fixtures (tests/fixtures.py) start the hub against a test database; conftest.py
switches the webshop on (it ships disabled). `admin_api` is a client signed in with an
admin's API token.
"""

import json
from pathlib import Path

import pytest

from app.core.database import execute_query
from app.core.migrations import applied_migrations
from tests.fixtures import login, make_user


def test_webshop():
    # Tests use the same database helpers
    result = execute_query("SELECT 1 as test")
    assert result[0]["test"] == 1


def test_migrations_are_applied(app):
    assert "001_init.sql" in [m["name"] for m in applied_migrations("webshop")]
    assert execute_query("SELECT to_regclass('webshop_items') IS NOT NULL AS present")[0]["present"]


def test_module_is_enabled(admin_api):
    r = admin_api.get("/api/v1/modules/webshop")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "enabled"


def test_items_api_roundtrip(admin_api):
    r = admin_api.post("/api/v1/webshop/items", json={"name": "First item"})
    assert r.status_code == 201, r.text
    assert r.json()["id"] is not None
    names = [i["name"] for i in admin_api.get("/api/v1/webshop/items").json()]
    assert "First item" in names


def test_customer_is_linked_to_the_hub_customer_by_name(admin_api):
    hub = admin_api.post("/api/v1/customers", json={"name": "Template Link Test ApS"}).json()
    r = admin_api.post("/api/v1/webshop/customers", json={"name": "  template link test aps "})
    assert r.status_code == 201, r.text
    assert r.json()["hub_customer_id"] == hub["id"]


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 256}, {"name": 5}])
def test_bad_input_is_a_clear_422(admin_api, body):
    assert admin_api.post("/api/v1/webshop/items", json=body).status_code == 422


def test_ships_disabled_with_a_real_description():
    meta = json.loads((Path(__file__).parents[1] / "module.json").read_text())
    assert meta["enabled"] is False
    assert "linked automatically to the hub customer" in meta["description"]


def test_page_shows_the_customers_with_their_hub_customer(client, admin_api):
    hub = admin_api.post("/api/v1/customers", json={"name": "Page Link Test ApS"}).json()
    admin_api.post("/api/v1/webshop/customers", json={"name": "page link test aps", "external_id": "shop-17"})
    admin_api.post("/api/v1/webshop/customers", json={"name": "Nobody In The Hub Yet"})
    login(client, make_user())
    r = client.get("/webshop")
    assert r.status_code == 200
    assert "linked automatically to the hub customer" in r.text
    assert f'<a href="/customers/{hub["id"]}">Page Link Test ApS</a>' in r.text
    assert "shop-17" in r.text and "Nobody In The Hub Yet" in r.text and "not linked" in r.text


def test_page_form_adds_a_linked_customer(client, admin_api):
    hub = admin_api.post("/api/v1/customers", json={"name": "Form Link Test A/S"}).json()
    csrf = login(client, make_user())
    r = client.post("/webshop/customers", data={"name": " form link test a/s ", "external_id": "",
                                                "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/webshop?notice=created"
    row = execute_query("SELECT hub_customer_id, external_id FROM webshop_customers WHERE name = %s",
                        ("form link test a/s",))
    assert row == [{"hub_customer_id": hub["id"], "external_id": None}]


def test_page_form_with_a_blank_name_comes_back_with_the_message(client):
    before = execute_query("SELECT count(*) AS n FROM webshop_customers")[0]["n"]
    csrf = login(client, make_user())
    r = client.post("/webshop/customers", data={"name": "   ", "external_id": "kept-17", "csrf_token": csrf})
    assert r.status_code == 422
    assert "must not be blank" in r.text and 'value="kept-17"' in r.text
    assert execute_query("SELECT count(*) AS n FROM webshop_customers")[0]["n"] == before
