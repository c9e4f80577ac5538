"""Disabling the sag module hides its pages, API and contributions; the core keeps serving."""

import pytest

from app.core import database
from tests.fixtures import login, make_user


@pytest.fixture
def admin_session(client):
    admin = make_user("admin")
    login(client, admin)
    return client


@pytest.fixture
def customer_with_case(admin_api) -> int:
    customer = admin_api.post("/api/v1/customers", json={"name": "Modulskift ApS"}).json()["id"]
    r = admin_api.post("/api/v1/sag", json={"title": "Printer i receptionen", "customer_id": customer})
    assert r.status_code == 201, r.text
    return customer


def test_disabling_hides_pages_and_api_and_the_customer_page_still_works(admin_api, admin_session,
                                                                        customer_with_case):
    case_id = database.execute_query("SELECT id FROM sag_sager WHERE customer_id = %s",
                                     (customer_with_case,))[0]["id"]
    page = admin_session.get(f"/customers/{customer_with_case}")
    assert 'id="customerCases"' in page.text and 'href="/sag">Cases</a>' in page.text

    r = admin_api.post("/api/v1/modules/sag/disable")
    assert r.status_code == 200, r.text
    try:
        assert admin_api.get("/api/v1/sag").status_code == 404
        assert admin_api.get(f"/api/v1/sag/{case_id}").status_code == 404
        assert admin_api.post("/api/v1/sag", json={"title": "x"}).status_code == 404
        assert admin_session.get("/sag").status_code == 404
        assert admin_session.get(f"/sag/{case_id}").status_code == 404
        page = admin_session.get(f"/customers/{customer_with_case}")
        assert page.status_code == 200
        assert "Modulskift ApS" in page.text
        assert 'id="customerCases"' not in page.text
        assert 'href="/sag">Cases</a>' not in page.text
        assert admin_session.get("/").status_code == 200
        # The data stays: disabling is not uninstalling.
        assert database.execute_query("SELECT 1 FROM sag_sager WHERE id = %s", (case_id,))
    finally:
        assert admin_api.post("/api/v1/modules/sag/enable").status_code == 200

    assert admin_api.get(f"/api/v1/sag/{case_id}").status_code == 200
    assert admin_session.get(f"/sag/{case_id}").status_code == 200
    assert 'id="customerCases"' in admin_session.get(f"/customers/{customer_with_case}").text


def test_only_admins_may_disable_the_module(user_api):
    assert user_api.post("/api/v1/modules/sag/disable").status_code == 403
    assert user_api.get("/api/v1/sag").status_code == 200
