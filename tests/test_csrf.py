"""CSRF: cookie-authenticated unsafe requests must carry the session's token (API and forms)."""

from __future__ import annotations

from app.core import auth
from tests.fixtures import login, make_user


def test_cookie_api_write_without_the_token_is_refused(client):
    login(client, make_user())
    r = client.post("/api/v1/customers", json={"name": "No Token ApS"})
    assert r.status_code == 403
    assert "CSRF" in r.json()["detail"]
    assert client.get("/api/v1/customers", params={"q": "No Token ApS"}).json()["total"] == 0


def test_cookie_api_write_with_the_header_token_is_accepted(client):
    csrf = login(client, make_user())
    r = client.post("/api/v1/customers", json={"name": "Header Token ApS"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201


def test_a_wrong_or_another_sessions_token_is_refused(client, app):
    from fastapi.testclient import TestClient

    login(client, make_user())
    with TestClient(app) as other:
        other_csrf = login(other, make_user())
    for bad in ("wrong", other_csrf):
        r = client.post("/api/v1/customers", json={"name": "X"}, headers={"X-CSRF-Token": bad})
        assert r.status_code == 403


def test_form_post_without_the_token_is_refused_and_with_it_accepted(client):
    csrf = login(client, make_user())
    r = client.post("/customers/new", data={"name": "Form Kunde"}, follow_redirects=False)
    assert r.status_code == 403
    assert "CSRF token missing or wrong" in r.text
    r = client.post("/customers/new", data={"name": "Form Kunde", auth.CSRF_FIELD: csrf}, follow_redirects=False)
    assert r.status_code == 303


def test_multipart_forms_carry_the_token_too(client):
    csrf = login(client, make_user())
    r = client.post("/customers/new", files={"name": (None, "Multipart Kunde"), auth.CSRF_FIELD: (None, csrf)},
                    follow_redirects=False)
    assert r.status_code == 303


def test_safe_methods_need_no_token(client):
    login(client, make_user())
    assert client.get("/api/v1/customers").status_code == 200
    assert client.head("/customers").status_code in (200, 405)


def test_every_page_carries_the_token_for_scripts(client):
    csrf = login(client, make_user())
    assert f'<meta name="csrf-token" content="{csrf}">' in client.get("/").text


def test_each_session_has_its_own_token(app):
    from fastapi.testclient import TestClient

    user = make_user()
    with TestClient(app) as a, TestClient(app) as b:
        assert login(a, user) != login(b, user)
