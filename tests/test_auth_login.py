"""Signing in and out: pages, session cookie flags, argon2 hashes, throttling."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.core import auth
from app.core.config import get_settings, reset_settings
from app.core.database import execute_query, execute_update
from tests.fixtures import login, make_user


def _post_login(client, username: str, password: str, **extra):
    return client.post("/login", data={"username": username, "password": password, **extra},
                       follow_redirects=False)


def test_login_page_is_served_without_a_user(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert 'name="username"' in r.text and 'name="password"' in r.text
    assert "/static/bootstrap/css/bootstrap.min.css" in r.text


def test_pages_redirect_to_login_and_back_after_signing_in(client):
    user = make_user()
    r = client.get("/customers?q=abc", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fcustomers%3Fq%3Dabc"
    r = _post_login(client, user["username"], user["password"], next="/customers?q=abc")
    assert r.status_code == 303 and r.headers["location"] == "/customers?q=abc"
    assert client.get("/customers?q=abc").status_code == 200


def test_session_cookie_is_httponly_and_samesite_lax(client):
    user = make_user()
    r = _post_login(client, user["username"], user["password"])
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{auth.SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Secure" not in cookie, "BASE_URL is http in the tests"


def test_session_cookie_is_secure_when_base_url_is_https(app, monkeypatch):
    user = make_user()
    monkeypatch.setenv("BASE_URL", "https://hub.example.dk")
    reset_settings()
    try:
        with TestClient(app, base_url="https://hub.example.dk") as c:
            r = _post_login(c, user["username"], user["password"])
            assert r.status_code == 303
            assert "Secure" in r.headers["set-cookie"]
    finally:
        monkeypatch.undo()
        reset_settings()
    assert not get_settings().secure_cookies


def test_login_accepts_the_e_mail_address_and_any_case_of_the_username(client):
    user = make_user()
    assert _post_login(client, user["email"].upper(), user["password"]).status_code == 303
    assert _post_login(client, user["username"].upper(), user["password"]).status_code == 303


def test_passwords_are_stored_as_argon2_hashes():
    user = make_user(password="a-secret-password")
    stored = execute_query("SELECT password_hash FROM users WHERE id = %s", (user["id"],))[0]["password_hash"]
    assert stored.startswith("$argon2id$")
    assert "a-secret-password" not in stored
    assert auth.verify_password(stored, "a-secret-password")
    assert not auth.verify_password(stored, "a-secret-passworD")


def test_wrong_password_and_unknown_user_get_the_same_clear_message(client):
    user = make_user()
    wrong = _post_login(client, user["username"], "not-the-password")
    unknown = _post_login(client, "nobody-by-this-name", "whatever-password")
    for r in (wrong, unknown):
        assert r.status_code == 401
        assert "Wrong username or password." in r.text
        assert auth.SESSION_COOKIE not in r.headers.get("set-cookie", "")
    assert 'value="nobody-by-this-name"' in unknown.text, "the username is kept in the form"


def test_empty_fields_are_asked_for(client):
    r = _post_login(client, "", "")
    assert r.status_code == 422
    assert "Enter your username and password." in r.text


def test_a_deactivated_user_cannot_sign_in(client):
    user = make_user(active=False)
    assert _post_login(client, user["username"], user["password"]).status_code == 401


def test_logout_ends_the_session_on_the_server(client):
    user = make_user()
    csrf = login(client, user)
    cookie = client.cookies.get(auth.SESSION_COOKIE)
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert "You are signed out." in client.get(r.headers["location"]).text
    # The old cookie value is worthless now, even if a browser kept it.
    client.cookies.set(auth.SESSION_COOKIE, cookie)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logout_needs_the_csrf_token(client):
    user = make_user()
    login(client, user)
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200


def test_an_expired_session_sends_the_user_to_the_login_page(client):
    user = make_user()
    login(client, user)
    execute_update("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = %s", (user["id"],))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_deactivating_a_user_ends_their_sessions(client, admin_api):
    user = make_user()
    login(client, user)
    assert admin_api.patch(f"/api/v1/users/{user['id']}", json={"active": False}).status_code == 200
    assert client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_login_never_redirects_off_site(client, target):
    user = make_user()
    r = _post_login(client, user["username"], user["password"], next=target)
    assert r.headers["location"] == "/"


def test_a_login_posted_from_another_site_is_refused(client):
    user = make_user()
    r = client.post("/login", data={"username": user["username"], "password": user["password"]},
                    headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert r.status_code == 403
    ok = client.post("/login", data={"username": user["username"], "password": user["password"]},
                     headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert ok.status_code == 303


def test_repeated_failed_logins_are_throttled_even_with_the_right_password(client):
    user = make_user()
    limit = get_settings().login_max_failures
    for _ in range(limit):
        assert _post_login(client, user["username"], "wrong-password").status_code == 401
    r = _post_login(client, user["username"], user["password"])
    assert r.status_code == 429
    assert "Too many failed logins" in r.text
    assert int(r.headers["retry-after"]) > 0
    # Another user from the same address is not locked out by this one's failures.
    other = make_user()
    assert _post_login(client, other["username"], other["password"]).status_code == 303


def test_throttling_ends_when_the_window_has_passed(client):
    user = make_user()
    for _ in range(get_settings().login_max_failures):
        _post_login(client, user["username"], "wrong-password")
    execute_update("UPDATE login_attempts SET created_at = created_at - make_interval(secs => %s) "
                   "WHERE username = %s", (get_settings().login_window_s + 1, user["username"]))
    assert _post_login(client, user["username"], user["password"]).status_code == 303


def test_a_successful_login_forgets_earlier_failures(client):
    user = make_user()
    limit = get_settings().login_max_failures
    for _ in range(limit - 1):
        _post_login(client, user["username"], "wrong-password")
    assert _post_login(client, user["username"], user["password"]).status_code == 303
    for _ in range(limit - 1):
        _post_login(client, user["username"], "wrong-password")
    assert _post_login(client, user["username"], user["password"]).status_code == 303


def test_signed_in_user_visiting_login_goes_to_the_dashboard(client):
    login(client, make_user())
    r = client.get("/login", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_signing_in_clears_out_expired_sessions_and_old_attempts(client):
    stale = make_user()
    login(client, stale)
    execute_update("UPDATE sessions SET expires_at = now() - interval '1 day' WHERE user_id = %s", (stale["id"],))
    execute_update("INSERT INTO login_attempts (username, ip, succeeded, created_at) "
                   "VALUES ('ghost', '10.0.0.1', false, now() - interval '2 days')")
    login(client, make_user())
    assert execute_query("SELECT 1 FROM sessions WHERE user_id = %s", (stale["id"],)) == []
    assert execute_query("SELECT 1 FROM login_attempts WHERE username = 'ghost'") == []


def test_overlong_credentials_get_the_login_page_not_an_error_page(client):
    r = _post_login(client, "u" * 5000, "p")
    assert r.status_code == 401 and 'name="password"' in r.text
    r = _post_login(client, "someone", "p" * 100_000)
    assert r.status_code == 401 and "Wrong username or password." in r.text
