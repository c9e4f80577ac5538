"""The admin users pages in Danish, and an admin choosing the language a user reads the hub in."""

from __future__ import annotations

import pytest

from app.core import database, users
from tests.fixtures import login, make_user


@pytest.fixture
def danish_admin(client):
    admin = make_user("admin", language="da")
    client.csrf = login(client, admin)
    return client


def test_the_users_list_is_in_danish_with_danish_dates(danish_admin):
    make_user()  # no language of its own: the hub's default
    other = make_user()
    database.execute_update("UPDATE users SET last_login_at = '2026-12-01 13:05+00', language = 'en' WHERE id = %s",
                            (other["id"],))
    page = danish_admin.get("/admin/users").text
    for text in ("<title>Brugere · BMC Hub</title>", "Tilføj en bruger", "<th>Sidste login</th>", "<th>Sprog</th>",
                 ">dig</span>", ">Gør til administrator</button>", ">Deaktivér</button>", "Hubbens standard",
                 "1. dec. 2026 14.05", "English"):
        assert text in page, text


def test_the_edit_form_offers_the_language(danish_admin):
    user = make_user()
    page = danish_admin.get(f"/admin/users/{user['id']}").text
    assert '<label class="form-label" for="e-language">Sprog</label>' in page
    assert '<option value="" selected>Hubbens standard (English)</option>' in page  # the suite's LANGUAGE is en
    assert '<option value="da" lang="da">Dansk</option>' in page
    for text in (">Fulde navn</label>", ">Tidszone</label>", ">Rolle</label>", "Tekniker (bruger)",
                 "Deaktiveret (kan ikke logge ind)", ">Gem</button>", ">Annullér</a>"):
        assert text in page, text


def test_an_admin_sets_a_users_language_and_back_to_the_default(danish_admin, client):
    user = make_user()
    form = {"csrf_token": danish_admin.csrf, "form": "edit", "full_name": user["full_name"], "email": user["email"],
            "timezone": "Europe/Copenhagen", "role": "user", "active": "true", "password": ""}
    r = danish_admin.post(f"/admin/users/{user['id']}", data=form | {"language": "da"}, follow_redirects=False)
    assert r.status_code == 303
    assert users.get_user(user["id"])["language"] == "da"
    assert '<option value="da" lang="da" selected>Dansk</option>' in danish_admin.get(f"/admin/users/{user['id']}").text
    r = danish_admin.post(f"/admin/users/{user['id']}", data=form | {"language": ""}, follow_redirects=False)
    assert r.status_code == 303
    assert users.get_user(user["id"])["language"] is None


def test_a_user_set_to_danish_by_the_admin_reads_the_hub_in_danish(danish_admin, client):
    from fastapi.testclient import TestClient

    user = make_user()
    form = {"csrf_token": danish_admin.csrf, "form": "edit", "language": "da"}
    assert danish_admin.post(f"/admin/users/{user['id']}", data=form, follow_redirects=False).status_code == 303
    with TestClient(client.app) as own:
        login(own, user)
        assert "Aktive kunder" in own.get("/").text


def test_a_bad_language_is_refused_in_danish(danish_admin):
    user = make_user()
    r = danish_admin.post(f"/admin/users/{user['id']}",
                          data={"csrf_token": danish_admin.csrf, "form": "edit", "language": "de"})
    assert r.status_code == 422 and "Vælg en af de viste muligheder." in r.text
    assert users.get_user(user["id"])["language"] is None


def test_an_english_admin_sees_english(client):
    admin = make_user("admin", language="en")
    login(client, admin)
    page = client.get(f"/admin/users/{admin['id']}").text
    assert '<label class="form-label" for="e-language">Language</label>' in page and "Full name" in page
