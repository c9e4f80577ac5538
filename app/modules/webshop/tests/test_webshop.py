"""webshop: the hub starts with the module, its migrations ran, its routes answer.

The shared fixtures (tests/fixtures.py) start the hub against a test database with every
module's migrations applied; `admin_api` is a client signed in with an admin's API token.
"""

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


def test_page_shows_the_module(client):
    login(client, make_user())
    r = client.get("/webshop")
    assert r.status_code == 200
    assert "Webshop" in r.text
