"""Users: the admin API and the admin users page."""

from __future__ import annotations

import uuid

import pytest

from app.core import auth
from app.core.database import execute_query, execute_update
from tests.fixtures import login, make_user


def _name() -> str:
    return f"tech{uuid.uuid4().hex[:8]}"


def _new_user(**fields) -> dict:
    name = _name()
    return {"username": name, "email": f"{name}@bmc.dk", "full_name": "Test Tekniker",
            "password": "a-long-password", **fields}


def test_admin_creates_lists_reads_and_updates_users(admin_api):
    r = admin_api.post("/api/v1/users", json=_new_user(timezone="Europe/London"))
    assert r.status_code == 201, r.text
    user = r.json()
    assert "password" not in user and "password_hash" not in user
    assert (user["role"], user["active"], user["timezone"]) == ("user", True, "Europe/London")
    assert user["id"] in [u["id"] for u in admin_api.get("/api/v1/users").json()]
    assert admin_api.get(f"/api/v1/users/{user['id']}").json()["username"] == user["username"]
    r = admin_api.patch(f"/api/v1/users/{user['id']}", json={"role": "admin", "full_name": "Ny Navn"})
    assert r.json()["role"] == "admin" and r.json()["full_name"] == "Ny Navn"


def test_new_users_get_default_notification_preferences(admin_api):
    uid = admin_api.post("/api/v1/users", json=_new_user()).json()["id"]
    prefs = execute_query("SELECT in_app_enabled, email_enabled FROM user_notification_preferences "
                          "WHERE user_id = %s", (uid,))
    assert prefs == [{"in_app_enabled": True, "email_enabled": True}]


def test_new_users_default_to_the_hub_time_zone(admin_api):
    assert admin_api.post("/api/v1/users", json=_new_user()).json()["timezone"] == "Europe/Copenhagen"


def test_a_new_user_can_sign_in_with_the_given_password(admin_api, client):
    body = _new_user()
    uid = admin_api.post("/api/v1/users", json=body).json()["id"]
    login(client, {"username": body["username"], "password": body["password"], "id": uid})


def test_changing_a_password_ends_the_users_sessions(admin_api, client):
    user = make_user()
    login(client, user)
    assert admin_api.patch(f"/api/v1/users/{user['id']}", json={"password": "another-password"}).status_code == 200
    assert client.get("/", follow_redirects=False).status_code == 303
    login(client, {**user, "password": "another-password"})


def test_duplicate_username_or_email_is_409_whatever_the_case(admin_api):
    body = _new_user()
    assert admin_api.post("/api/v1/users", json=body).status_code == 201
    r = admin_api.post("/api/v1/users", json={**_new_user(), "username": body["username"].upper()})
    assert r.status_code == 409
    assert r.json() == {"detail": "This username is already taken", "field": "username"}
    r = admin_api.post("/api/v1/users", json={**_new_user(), "email": body["email"].upper()})
    assert r.status_code == 409 and r.json()["field"] == "email"


@pytest.mark.parametrize("changes, field", [
    ({"username": "a"}, "username"),
    ({"username": "has space"}, "username"),
    ({"username": "<script>"}, "username"),
    ({"username": "x" * 65}, "username"),
    ({"email": "nope"}, "email"),
    ({"password": "short"}, "password"),
    ({"password": "p" * 201}, "password"),
    ({"role": "superuser"}, "role"),
    ({"timezone": "Mars/Base"}, "timezone"),
    ({"active": "sometimes"}, "active"),
    ({"is_admin": True}, "is_admin"),
])
def test_bad_user_input_is_422_naming_the_field(admin_api, changes, field):
    r = admin_api.post("/api/v1/users", json=_new_user(**changes))
    assert r.status_code == 422
    assert field in r.json()["detail"]


def test_unknown_user_is_404(admin_api):
    assert admin_api.get("/api/v1/users/987654").status_code == 404
    assert admin_api.patch("/api/v1/users/987654", json={"full_name": "x"}).status_code == 404


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(admin_api):
    me = admin_api.user
    execute_update("UPDATE users SET active = false WHERE role = 'admin' AND id <> %s", (me["id"],))
    for change in ({"role": "user"}, {"active": False}):
        r = admin_api.patch(f"/api/v1/users/{me['id']}", json=change)
        assert r.status_code == 409
        assert "last active administrator" in r.json()["detail"]
    other = make_user("admin")
    assert admin_api.patch(f"/api/v1/users/{me['id']}", json={"role": "user"}).status_code == 200
    execute_update("UPDATE users SET role = 'admin' WHERE id = %s", (me["id"],))
    assert other["role"] == "admin"


def test_normal_users_cannot_use_the_users_api(user_api):
    assert user_api.get("/api/v1/users").status_code == 403
    assert user_api.post("/api/v1/users", json=_new_user(role="admin")).status_code == 403
    assert user_api.patch(f"/api/v1/users/{user_api.user['id']}", json={"role": "admin"}).status_code == 403
    assert user_api.get("/api/v1/auth/me").json()["role"] == "user"


# --- the admin page -----------------------------------------------------------------------

@pytest.fixture
def admin_browser(client):
    admin = make_user("admin")
    client.csrf = login(client, admin)
    client.user = admin
    return client


def test_admin_page_lists_users(admin_browser):
    other = make_user(full_name="Sofie Hansen")
    page = admin_browser.get("/admin/users").text
    assert other["username"] in page and "Sofie Hansen" in page and "Add a user" in page


def test_admin_page_adds_a_user(admin_browser):
    body = _new_user(role="admin")
    r = admin_browser.post("/admin/users", data={**body, auth.CSRF_FIELD: admin_browser.csrf},
                           follow_redirects=False)
    assert r.status_code == 303
    assert execute_query("SELECT role FROM users WHERE username = %s", (body["username"],)) == [{"role": "admin"}]


def test_admin_page_shows_form_errors_and_keeps_input_but_not_the_password(admin_browser):
    taken = make_user()
    r = admin_browser.post("/admin/users", data={"username": taken["username"], "email": "fresh@bmc.dk",
                                                  "full_name": "Lars", "password": "secret-password-1",
                                                  auth.CSRF_FIELD: admin_browser.csrf})
    assert r.status_code == 422
    assert "This username is already taken" in r.text
    assert 'value="Lars"' in r.text and "secret-password-1" not in r.text
    r = admin_browser.post("/admin/users", data={"username": _name(), "email": "x", "password": "short",
                                                  auth.CSRF_FIELD: admin_browser.csrf})
    assert "Enter a valid e-mail address." in r.text and "at least 8 characters" in r.text


def test_admin_page_deactivates_and_changes_role(admin_browser):
    user = make_user()
    for data, column, value in (({"active": "false"}, "active", False), ({"role": "admin"}, "role", "admin")):
        r = admin_browser.post(f"/admin/users/{user['id']}", data={**data, auth.CSRF_FIELD: admin_browser.csrf},
                               follow_redirects=False)
        assert r.status_code == 303
        assert execute_query(f"SELECT {column} AS v FROM users WHERE id = %s", (user["id"],))[0]["v"] == value


def test_admin_page_refuses_removing_the_last_admin_with_a_message(admin_browser):
    me = admin_browser.user
    execute_update("UPDATE users SET active = false WHERE role = 'admin' AND id <> %s", (me["id"],))
    r = admin_browser.post(f"/admin/users/{me['id']}", data={"role": "user", auth.CSRF_FIELD: admin_browser.csrf})
    assert r.status_code == 409
    assert "last active administrator" in r.text


def test_admin_edit_page_changes_details_and_keeps_the_password_when_blank(admin_browser):
    user = make_user()
    page = admin_browser.get(f"/admin/users/{user['id']}").text
    assert f'value="{user["email"]}"' in page and "New password" in page
    r = admin_browser.post(f"/admin/users/{user['id']}", data={
        "form": "edit", "full_name": "Freja Andersen", "email": f"new-{user['email']}", "timezone": "Europe/Oslo",
        "role": "user", "active": "true", "password": "", auth.CSRF_FIELD: admin_browser.csrf,
    }, follow_redirects=False)
    assert r.status_code == 303
    row = execute_query("SELECT full_name, email, timezone, password_hash FROM users WHERE id = %s", (user["id"],))[0]
    assert (row["full_name"], row["email"]) == ("Freja Andersen", f"new-{user['email']}")
    assert row["timezone"] == "Europe/Oslo"
    assert auth.verify_password(row["password_hash"], user["password"])


def test_admin_edit_page_shows_errors_on_the_edit_form(admin_browser):
    user = make_user()
    r = admin_browser.post(f"/admin/users/{user['id']}", data={
        "form": "edit", "full_name": "X", "email": "broken", "timezone": "Nowhere/Land", "password": "short",
        auth.CSRF_FIELD: admin_browser.csrf})
    assert r.status_code == 422
    assert "Enter a valid e-mail address." in r.text and "Use at least 8 characters." in r.text
    assert 'name="form" value="edit"' in r.text and "short" not in r.text.split("New password")[1][:300]


def test_the_admins_own_row_has_no_button_to_lock_themselves_out(admin_browser):
    page = admin_browser.get("/admin/users").text
    own_row = page.split(f'href="/admin/users/{admin_browser.user["id"]}"')[1].split("</tr>")[0]
    assert "Deactivate" not in own_row and "you" in own_row
