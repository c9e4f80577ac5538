"""The dashboard and the navigation in the signed-in user's language."""

from __future__ import annotations

from tests.fixtures import login, make_user


def _user(language: str, **fields) -> dict:
    user = make_user(**fields, language=language)
    return user


def _danish_user(**fields) -> dict:
    return _user("da", **fields)


def test_a_danish_user_sees_the_dashboard_and_menus_in_danish(client):
    login(client, _danish_user(full_name="Mette Hansen"))
    page = client.get("/").text
    assert '<html lang="da"' in page
    for text in ("Godt at se dig, Mette Hansen", "Aktive kunder", ">Overblik</a>", ">Kunder</a>",
                 "Min profil og API-tokens", "Log ud", "<title>Overblik · BMC Hub</title>"):
        assert text in page, text
    assert "Good to see you" not in page and "Sign out" not in page


def test_the_browsers_language_does_not_override_the_users_choice(client):
    login(client, _danish_user())
    page = client.get("/", headers={"Accept-Language": "en"}).text
    assert '<html lang="da"' in page and "Aktive kunder" in page


def test_an_english_user_still_sees_english(client):
    login(client, _user("en", full_name="Ann Smith"))
    page = client.get("/", headers={"Accept-Language": "da"}).text
    assert '<html lang="en"' in page and "Good to see you, Ann Smith" in page and ">Customers</a>" in page


def test_an_admin_sees_the_admin_menu_in_danish(client):
    login(client, _danish_user(role="admin"))
    page = client.get("/").text
    for text in (">Administration</a>", 'href="/admin/users">Brugere</a>', 'href="/admin/modules">Moduler</a>'):
        assert text in page, text


def test_the_page_carries_the_danish_texts_of_the_toasts(client):
    import json
    import re

    login(client, _danish_user())
    page = client.get("/").text
    messages = json.loads(re.search(r'<script type="application/json" id="hubMessages">(.*?)</script>', page,
                                    re.S).group(1))
    assert messages["Snooze 1 h"] == "Udsæt 1 time" and messages["Dismiss"] == "Afvis"
    assert messages["and %(n)s more reminders"] == "og %(n)s påmindelser mere"
