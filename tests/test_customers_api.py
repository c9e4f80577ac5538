"""Customers API: CRUD, search, pagination, and bad input getting a clear 4xx."""

from __future__ import annotations

import uuid

import pytest

from app.core.database import execute_query


def _unique(prefix: str = "Kunde") -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def _cvr() -> str:
    return f"{uuid.uuid4().int % 10**8:08d}"


def test_create_read_update_and_delete_a_customer(user_api, admin_api):
    body = {"name": _unique("Nordlys"), "cvr_number": _cvr(), "email": "kontakt@nordlys.dk",
            "phone": "+45 12 34 56 78", "address": "Havnegade 3", "postal_code": "8000", "city": "Aarhus C",
            "economic_customer_number": uuid.uuid4().int % 10**6 + 1, "notes": "VIP"}
    r = user_api.post("/api/v1/customers", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert {k: created[k] for k in body} == body
    assert created["active"] is True and created["created_at"] and created["updated_at"]
    cid = created["id"]

    assert user_api.get(f"/api/v1/customers/{cid}").json() == created

    r = user_api.patch(f"/api/v1/customers/{cid}", json={"city": "Odense C", "phone": None})
    assert r.status_code == 200
    assert r.json()["city"] == "Odense C" and r.json()["phone"] is None
    assert r.json()["name"] == body["name"], "fields not sent are kept"
    assert r.json()["updated_at"] >= created["updated_at"]

    assert admin_api.delete(f"/api/v1/customers/{cid}").status_code == 204
    assert user_api.get(f"/api/v1/customers/{cid}").status_code == 404


def test_only_admins_delete_customers(user_api):
    cid = user_api.post("/api/v1/customers", json={"name": _unique()}).json()["id"]
    r = user_api.delete(f"/api/v1/customers/{cid}")
    assert r.status_code == 403
    assert user_api.get(f"/api/v1/customers/{cid}").status_code == 200


def test_a_referenced_customer_cannot_be_deleted_but_can_be_deactivated(user_api, admin_api):
    execute_query("CREATE TABLE IF NOT EXISTS scratch_orders (id SERIAL PRIMARY KEY, "
                  "customer_id INTEGER REFERENCES customers(id))")
    cid = user_api.post("/api/v1/customers", json={"name": _unique()}).json()["id"]
    execute_query("INSERT INTO scratch_orders (customer_id) VALUES (%s)", (cid,))
    r = admin_api.delete(f"/api/v1/customers/{cid}")
    assert r.status_code == 409
    assert "deactivate it instead" in r.json()["detail"]
    assert user_api.patch(f"/api/v1/customers/{cid}", json={"active": False}).json()["active"] is False


def test_search_matches_name_cvr_email_and_city_case_insensitively(user_api):
    tag = uuid.uuid4().hex[:8]
    cvr = _cvr()
    ids = [user_api.post("/api/v1/customers", json=b).json()["id"] for b in (
        {"name": f"Skovbryn {tag} Revision"},
        {"name": _unique(), "cvr_number": cvr},
        {"name": _unique(), "email": f"info@{tag}.dk"},
        {"name": _unique(), "city": f"By{tag}"},
    )]
    assert [c["id"] for c in user_api.get("/api/v1/customers", params={"q": f"SKOVBRYN {tag}"}).json()["items"]] \
        == [ids[0]]
    assert [c["id"] for c in user_api.get("/api/v1/customers", params={"q": cvr}).json()["items"]] == [ids[1]]
    found = {c["id"] for c in user_api.get("/api/v1/customers", params={"q": tag}).json()["items"]}
    assert found == {ids[0], ids[2], ids[3]}


def test_search_treats_like_wildcards_as_plain_text(user_api):
    tag = uuid.uuid4().hex[:8]
    user_api.post("/api/v1/customers", json={"name": f"100% {tag}"})
    user_api.post("/api/v1/customers", json={"name": f"1000 {tag}"})
    items = user_api.get("/api/v1/customers", params={"q": f"100% {tag}"}).json()["items"]
    assert [c["name"] for c in items] == [f"100% {tag}"]
    assert user_api.get("/api/v1/customers", params={"q": "_" * 3 + tag}).json()["total"] == 0


def test_pagination_reports_total_and_pages_and_never_repeats_a_row(user_api):
    tag = uuid.uuid4().hex[:8]
    for n in range(7):
        user_api.post("/api/v1/customers", json={"name": f"Side {tag} {n:02d}"})
    seen = []
    for page in (1, 2, 3):
        body = user_api.get("/api/v1/customers", params={"q": tag, "page": page, "page_size": 3}).json()
        assert (body["total"], body["pages"], body["page"], body["page_size"]) == (7, 3, page, 3)
        seen += [c["name"] for c in body["items"]]
    assert seen == [f"Side {tag} {n:02d}" for n in range(7)]
    past = user_api.get("/api/v1/customers", params={"q": tag, "page": 9, "page_size": 3}).json()
    assert past["items"] == [] and past["total"] == 7


def test_active_filter_and_sorting(user_api):
    tag = uuid.uuid4().hex[:8]
    a = user_api.post("/api/v1/customers", json={"name": f"A {tag}", "city": "Vejle"}).json()
    b = user_api.post("/api/v1/customers", json={"name": f"B {tag}", "city": "Aalborg", "active": False}).json()
    names = lambda **p: [c["name"] for c in user_api.get("/api/v1/customers", params={"q": tag, **p}).json()["items"]]  # noqa: E731
    assert names() == [a["name"], b["name"]]
    assert names(active=True) == [a["name"]]
    assert names(active=False) == [b["name"]]
    assert names(sort="-name") == [b["name"], a["name"]]
    assert names(sort="city") == [b["name"], a["name"]]


def test_unknown_ids_are_404_with_a_message(user_api, admin_api):
    for method in ("GET", "PATCH"):
        r = user_api.request(method, "/api/v1/customers/987654", json={} if method == "PATCH" else None)
        assert r.status_code == 404
        assert r.json()["detail"] == "Customer 987654 not found"
    assert admin_api.delete("/api/v1/customers/987654").status_code == 404


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "99999999999999999999", "-1", "0"])
def test_malformed_or_out_of_range_ids_are_4xx_not_500(user_api, bad_id):
    r = user_api.get(f"/api/v1/customers/{bad_id}")
    assert r.status_code in (404, 422)
    assert r.json()["detail"]


def test_duplicate_cvr_and_economic_number_are_409_naming_the_field(user_api):
    cvr, econ = _cvr(), uuid.uuid4().int % 10**6 + 1
    assert user_api.post("/api/v1/customers", json={"name": _unique(), "cvr_number": cvr,
                                                    "economic_customer_number": econ}).status_code == 201
    r = user_api.post("/api/v1/customers", json={"name": _unique(), "cvr_number": cvr})
    assert r.status_code == 409 and r.json()["field"] == "cvr_number"
    assert "CVR" in r.json()["detail"]
    r = user_api.post("/api/v1/customers", json={"name": _unique(), "economic_customer_number": econ})
    assert r.status_code == 409 and r.json()["field"] == "economic_customer_number"
    other = user_api.post("/api/v1/customers", json={"name": _unique()}).json()["id"]
    assert user_api.patch(f"/api/v1/customers/{other}", json={"cvr_number": cvr}).status_code == 409


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": 123}, "name"),
    ({"name": ["list"]}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"name": "ok", "cvr_number": "1234"}, "cvr_number"),
    ({"name": "ok", "cvr_number": "abcdefgh"}, "cvr_number"),
    ({"name": "ok", "email": "not-an-email"}, "email"),
    ({"name": "ok", "email": "<script>@x.dk"}, "email"),
    ({"name": "ok", "phone": "1" * 41}, "phone"),
    ({"name": "ok", "economic_customer_number": "many"}, "economic_customer_number"),
    ({"name": "ok", "economic_customer_number": -5}, "economic_customer_number"),
    ({"name": "ok", "economic_customer_number": 2**40}, "economic_customer_number"),
    ({"name": "ok", "active": "maybe"}, "active"),
    ({"name": "ok", "notes": "n" * 5001}, "notes"),
    ({"name": "ok", "owner": "me"}, "owner"),
])
def test_bad_input_is_422_naming_the_field_and_writes_nothing(user_api, body, field):
    before = execute_query("SELECT count(*) AS n FROM customers")[0]["n"]
    r = user_api.post("/api/v1/customers", json=body)
    assert r.status_code == 422, r.text
    assert field in r.json()["detail"]
    assert any(e["field"] == field for e in r.json()["errors"])
    assert execute_query("SELECT count(*) AS n FROM customers")[0]["n"] == before


@pytest.mark.parametrize("raw, content_type", [
    (b'{"name": "unterminated', "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b'"just a string"', "application/json"),
    (b"name=Form", "application/x-www-form-urlencoded"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b"", "application/json"),
])
def test_malformed_bodies_are_422(user_api, raw, content_type):
    r = user_api.post("/api/v1/customers", content=raw, headers={"Content-Type": content_type})
    assert r.status_code == 422, r.text
    assert r.json()["detail"]


def test_a_nul_byte_is_refused_not_a_500(user_api):
    r = user_api.post("/api/v1/customers", json={"name": "Nul\x00Byte"})
    assert 400 <= r.status_code < 500


def test_patch_rejects_blanking_the_name_and_unknown_fields(user_api):
    cid = user_api.post("/api/v1/customers", json={"name": _unique()}).json()["id"]
    assert user_api.patch(f"/api/v1/customers/{cid}", json={"name": ""}).status_code == 422
    assert user_api.patch(f"/api/v1/customers/{cid}", json={"id": 5}).status_code == 422
    assert user_api.patch(f"/api/v1/customers/{cid}", json={"name": None}).json()["name"], "null name is ignored"


def test_hostile_html_is_stored_verbatim_and_returned_as_data(user_api):
    name = f'<img src=x onerror="alert(1)"> {uuid.uuid4().hex[:6]}'
    r = user_api.post("/api/v1/customers", json={"name": name, "notes": "<script>alert(2)</script>"})
    assert r.status_code == 201
    assert r.json()["name"] == name
    assert r.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("params", [{"page": 0}, {"page": "x"}, {"page_size": 0}, {"page_size": 1000},
                                    {"sort": "password"}, {"q": "q" * 201}, {"active": "perhaps"}])
def test_bad_list_parameters_are_422(user_api, params):
    r = user_api.get("/api/v1/customers", params=params)
    assert r.status_code == 422
    assert r.json()["detail"]
