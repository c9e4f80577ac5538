"""SLA policies: the API (admin-only writes, one policy per scope, pause statuses checked
against the case statuses, bad input 4xx with nothing half-written) and the admin pages."""

import uuid

import pytest

from app.core import database
from tests.fixtures import login, make_user


def _customer(api) -> int:
    r = api.post("/api/v1/customers", json={"name": f"Fjordtech {uuid.uuid4().hex[:6]} ApS"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _policy(**fields) -> dict:
    return {"name": f"Gold {uuid.uuid4().hex[:6]}", "response_minutes": 60, "resolution_minutes": 480, **fields}


@pytest.fixture
def admin_client(client):
    csrf = login(client, make_user("admin"))
    client.csrf = csrf
    return client


def test_create_policy_returns_it_with_default_pause_statuses(admin_api, user_api):
    customer = _customer(admin_api)
    r = admin_api.post("/api/v1/sag/sla/policies", json=_policy(customer_id=customer, priority="high"))
    assert r.status_code == 201, r.text
    policy = r.json()
    assert r.headers["Location"] == f"/api/v1/sag/sla/policies/{policy['id']}"
    assert policy["pause_statuses"] == ["waiting_customer", "on_hold"]
    assert policy["warning_percent"] == 75 and policy["calendar_id"] is None and policy["customer_name"]
    assert user_api.get(f"/api/v1/sag/sla/policies/{policy['id']}").json() == policy
    assert policy["id"] in [p["id"] for p in user_api.get("/api/v1/sag/sla/policies").json()]


def test_replace_policy_changes_targets_and_pause_statuses(admin_api):
    policy = admin_api.post("/api/v1/sag/sla/policies", json=_policy(priority="low")).json()
    r = admin_api.put(f"/api/v1/sag/sla/policies/{policy['id']}",
                      json=_policy(name=policy["name"], priority="low", response_minutes=30,
                                   pause_statuses=["on_hold"]))
    assert r.status_code == 200, r.text
    assert r.json()["response_minutes"] == 30 and r.json()["pause_statuses"] == ["on_hold"]
    assert admin_api.delete(f"/api/v1/sag/sla/policies/{policy['id']}").status_code == 204
    assert admin_api.get(f"/api/v1/sag/sla/policies/{policy['id']}").status_code == 404
    assert admin_api.delete(f"/api/v1/sag/sla/policies/{policy['id']}").status_code == 404


def test_one_policy_per_scope(admin_api):
    customer = _customer(admin_api)
    assert admin_api.post("/api/v1/sag/sla/policies", json=_policy(customer_id=customer)).status_code == 201
    r = admin_api.post("/api/v1/sag/sla/policies", json=_policy(customer_id=customer))
    assert r.status_code == 409 and "covers customer" in r.json()["detail"]
    # Same customer with a priority is another, more specific scope.
    assert admin_api.post("/api/v1/sag/sla/policies",
                          json=_policy(customer_id=customer, priority="urgent")).status_code == 201


def test_duplicate_name_is_409(admin_api):
    body = _policy(priority="normal")
    assert admin_api.post("/api/v1/sag/sla/policies", json=body).status_code == 201
    customer = _customer(admin_api)
    r = admin_api.post("/api/v1/sag/sla/policies", json=body | {"priority": None, "customer_id": customer,
                                                               "name": body["name"].upper()})
    assert r.status_code == 409 and r.json()["field"] == "name"


@pytest.mark.parametrize("fields, message", [
    ({"response_minutes": 0}, "response_minutes"),
    ({"resolution_minutes": 525601}, "resolution_minutes"),
    ({"response_minutes": 500, "resolution_minutes": 400}, "cannot be shorter"),
    ({"warning_percent": 100}, "warning_percent"),
    ({"priority": "critical"}, "priority"),
    ({"pause_statuses": ["on_hold", "on_hold"]}, "listed twice"),
    ({"pause_statuses": ["no such"]}, "pause_statuses"),
    ({"name": " "}, "name"),
    ({"colour": "gold"}, "colour"),
])
def test_bad_policies_are_422_naming_the_field(admin_api, fields, message):
    r = admin_api.post("/api/v1/sag/sla/policies", json=_policy(customer_id=_customer(admin_api)) | fields)
    assert r.status_code == 422 and message in r.text, r.text


@pytest.mark.parametrize("fields, field", [
    ({"pause_statuses": ["waiting_parts"]}, "pause_statuses"),
    ({"pause_statuses": ["closed"]}, "pause_statuses"),
    ({"customer_id": 999999}, "customer_id"),
    ({"calendar_id": 999999}, "calendar_id"),
])
def test_unknown_references_are_422_and_write_nothing(admin_api, fields, field):
    before = database.execute_query("SELECT count(*) AS n FROM sag_sla_policies")[0]["n"]
    r = admin_api.post("/api/v1/sag/sla/policies", json=_policy(priority="urgent") | fields)
    assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert database.execute_query("SELECT count(*) AS n FROM sag_sla_policies")[0]["n"] == before


def test_the_database_refuses_a_bad_pause_status_and_reversed_targets():
    import psycopg
    with pytest.raises(psycopg.errors.CheckViolation):
        database.execute_update("INSERT INTO sag_sla_policies (name, response_minutes, resolution_minutes) "
                                "VALUES ('x', 10, 5)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        database.execute_update("INSERT INTO sag_sla_pause_statuses (policy_id, status) VALUES (1, 'nope')")


def test_writing_policies_needs_an_admin(user_api):
    assert user_api.post("/api/v1/sag/sla/policies", json=_policy()).status_code == 403
    assert user_api.put("/api/v1/sag/sla/policies/1", json=_policy()).status_code == 403
    assert user_api.delete("/api/v1/sag/sla/policies/1").status_code == 403


def test_policy_pages_list_create_change_and_delete(admin_client):
    r = admin_client.get("/sag/sla/policies/new")
    assert r.status_code == 200 and 'id="pause_waiting_customer" checked' in r.text
    assert 'id="pause_closed"' not in r.text  # closed statuses fulfil, they do not pause
    name = f"Silver {uuid.uuid4().hex[:6]}"
    form = {"csrf_token": admin_client.csrf, "name": name, "priority": "", "customer_id": "", "calendar_id": "",
            "response_minutes": "130", "resolution_minutes": "960", "warning_percent": "80",
            "pause_statuses": ["on_hold"]}
    r = admin_client.post("/sag/sla/policies/new", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = admin_client.get("/sag/sla/policies").text
    assert name in page and "2 h 10 m" in page and "16 h" in page and "default (every other case)" in page
    policy_id = database.execute_query("SELECT id FROM sag_sla_policies WHERE name = %s", (name,))[0]["id"]
    r = admin_client.post(f"/sag/sla/policies/{policy_id}", data=form | {"resolution_minutes": "60"})
    assert r.status_code == 422 and "cannot be shorter" in r.text and f'value="{name}"' in r.text
    r = admin_client.post(f"/sag/sla/policies/{policy_id}", data=form | {"pause_statuses": []},
                          follow_redirects=False)
    assert r.status_code == 303
    assert admin_client.get(f"/sag/sla/policies/{policy_id}").text.count("checked") == 0
    r = admin_client.post(f"/sag/sla/policies/{policy_id}/delete", data={"csrf_token": admin_client.csrf},
                          follow_redirects=False)
    assert r.status_code == 303 and name not in admin_client.get("/sag/sla/policies").text


def test_policy_pages_are_for_admins_and_linked_in_the_admin_menu(admin_client, anon_client):
    assert 'href="/sag/sla/policies"' in admin_client.get("/").text
    login(anon_client, make_user("user"))
    assert anon_client.get("/sag/sla/policies").status_code == 403
    assert 'href="/sag/sla/policies"' not in anon_client.get("/").text
