"""Which language the hub speaks: the user's own choice, else the hub's LANGUAGE (default
Danish); before signing in, the browser's Accept-Language. The API's messages stay English."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from app.core import formats, i18n
from app.core.config import Settings, reset_settings
from tests.fixtures import login, make_user, token_for


def _lang(html: str) -> str:
    return re.search(r'<html lang="(\w+)"', html).group(1)


@pytest.fixture
def hub_language(monkeypatch):
    """Run the test with the hub's LANGUAGE set to the given value."""

    def use(value: str) -> None:
        monkeypatch.setenv("LANGUAGE", value)
        reset_settings()

    yield use
    monkeypatch.undo()
    reset_settings()


def test_the_hub_speaks_danish_unless_configured_otherwise(monkeypatch):
    monkeypatch.delenv("LANGUAGE", raising=False)
    assert Settings(_env_file=None).language == "da"
    monkeypatch.setenv("LANGUAGE", "en")
    assert Settings(_env_file=None).language == "en"
    monkeypatch.setenv("LANGUAGE", "de")
    with pytest.raises(ValueError, match="language"):
        Settings(_env_file=None)


@pytest.mark.parametrize(("header", "expected"), [
    ("da-DK,da;q=0.9,en;q=0.8", "da"),
    ("en-GB,en;q=0.9,da;q=0.5", "en"),
    ("fr-FR,fr;q=0.9,da;q=0.4", "da"),
    ("fr-FR", None),
    ("da;q=0, en;q=0.1", "en"),
    ("", None),
    ("da;q=abc", None),
])
def test_accept_language_picks_the_preferred_supported_language(header, expected):
    assert i18n.negotiate(header) == expected


def test_login_page_follows_the_browser_until_someone_signs_in(anon_client):
    danish = anon_client.get("/login", headers={"Accept-Language": "da-DK,da;q=0.9"})
    assert _lang(danish.text) == "da"
    english = anon_client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert _lang(english.text) == "en"
    # A language the hub does not speak: the hub's own default (English in this suite).
    assert _lang(anon_client.get("/login", headers={"Accept-Language": "fr"}).text) == "en"


def test_a_signed_in_user_reads_the_hub_in_their_own_language(client):
    user = make_user(language="da")
    login(client, user)
    # The user's choice wins over the browser's.
    page = client.get("/me", headers={"Accept-Language": "en"})
    assert _lang(page.text) == "da"
    assert "Min profil" in page.text and "API-nøgler" in page.text
    assert '<h1 class="h3 mb-4">My profile</h1>' not in page.text


def test_a_user_without_a_choice_follows_the_hubs_language(client, hub_language):
    user = make_user()
    login(client, user)
    assert "My profile" in client.get("/me").text
    hub_language("da")
    page = client.get("/me", headers={"Accept-Language": "en"})
    assert _lang(page.text) == "da" and "Min profil" in page.text
    assert "Hubbens standard (Dansk)" in page.text


def test_choosing_a_language_on_the_profile_page(client):
    user = make_user()
    csrf = login(client, user)
    r = client.post("/me/language", data={"language": "da", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/me?notice=saved"
    page = client.get("/me?notice=saved")
    assert "Min profil" in page.text and "Gemt." in page.text
    assert re.search(r'<option value="da" lang="da" selected>Dansk</option>', page.text)
    # Back to the hub's default.
    client.post("/me/language", data={"language": "", "csrf_token": csrf})
    assert "My profile" in client.get("/me").text


def test_an_unknown_language_is_refused_with_the_form_again(client):
    user = make_user(language="da")
    csrf = login(client, user)
    r = client.post("/me/language", data={"language": "fr", "csrf_token": csrf})
    assert r.status_code == 422
    assert "Vælg dansk eller engelsk." in r.text
    assert client.get("/api/v1/auth/me").json()["language"] == "da"


def test_the_language_form_needs_the_csrf_token(client):
    user = make_user()
    login(client, user)
    r = client.post("/me/language", data={"language": "da"})
    assert r.status_code == 403
    assert client.get("/api/v1/auth/me").json()["language"] == "en"


def test_api_sets_the_language_and_keeps_english_messages(app):
    from fastapi.testclient import TestClient

    user = make_user()
    with TestClient(app, headers={"Authorization": f"Bearer {token_for(user)}"}) as api:
        assert api.get("/api/v1/auth/me").json()["language"] == "en"  # the hub's default here
        r = api.patch("/api/v1/auth/me", json={"language": "da"})
        assert r.status_code == 200 and r.json()["language"] == "da"
        assert api.get("/api/v1/auth/me").json()["language"] == "da"
        assert api.patch("/api/v1/auth/me", json={"language": "xx"}).status_code == 422
        assert api.patch("/api/v1/auth/me", json={"language": "da", "role": "admin"}).status_code == 422
        # Scripts match on the API's messages: they stay English for a Danish user.
        assert api.get("/api/v1/users").json()["detail"] == "Only administrators may do this"
        assert api.patch("/api/v1/auth/me", json={"language": None}).json()["language"] == "en"


def test_api_errors_carry_the_readers_language_beside_the_english_detail(app):
    from fastapi.testclient import TestClient

    dansker, english = make_user(language="da"), make_user(language="en")
    with TestClient(app, headers={"Authorization": f"Bearer {token_for(dansker)}"}) as api:
        body = api.get("/api/v1/users").json()
        assert body == {"detail": "Only administrators may do this",
                        "message": i18n_da("Only administrators may do this")}
        assert body["message"] != body["detail"]
    with TestClient(app, headers={"Authorization": f"Bearer {token_for(english)}"}) as api:
        assert api.get("/api/v1/users").json() == {"detail": "Only administrators may do this"}


def i18n_da(text: str) -> str:
    with i18n.use_language("da"):
        return i18n.lookup(text)


def test_admins_set_a_users_language(admin_api):
    user = make_user()
    r = admin_api.patch(f"/api/v1/users/{user['id']}", json={"language": "da"})
    assert r.status_code == 200 and r.json()["language"] == "da"
    assert admin_api.patch(f"/api/v1/users/{user['id']}", json={"language": "sv"}).status_code == 422
    created = admin_api.post("/api/v1/users", json={"username": "dansker", "email": "dansker@example.test",
                                                    "password": "a-long-password-1", "language": "da"})
    assert created.status_code == 201 and created.json()["language"] == "da"


def test_pages_carry_the_translations_of_their_scripts(client):
    user = make_user(language="da")
    login(client, user)
    page = client.get("/me").text
    messages = json.loads(re.search(r'<script type="application/json" id="hubMessages">(.*?)</script>',
                                    page, re.S).group(1))
    assert messages["Close"] == "Luk"
    english = make_user(language="en")
    login(client, english)
    assert '<script type="application/json" id="hubMessages">{}</script>' in client.get("/me").text


def test_dates_numbers_and_relative_times_are_written_per_language():
    moment = datetime(2026, 12, 1, 13, 5, tzinfo=UTC)  # 14:05 in Copenhagen
    assert formats.format_datetime(moment, tz_name="Europe/Copenhagen", language="da") == "1. dec. 2026 14.05"
    assert formats.format_datetime(moment, tz_name="Europe/Copenhagen", language="en") == "1 Dec 2026, 14:05"
    # The time and the date both in the reader's zone (not the hub's): 08:05 in New York, the
    # next day already in Tokyo.
    assert formats.format_datetime(moment, tz_name="America/New_York", language="en") == "1 Dec 2026, 08:05"
    late = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)
    assert formats.format_datetime(late, tz_name="Asia/Tokyo", language="da") == "2. dec. 2026 07.30"
    assert formats.format_date(date(2026, 3, 5), "weekday", language="da") == "tors. 5. mar. 2026"
    assert formats.format_number(12345.5, language="da") == "12.345,5"
    assert formats.format_number(12345.5, language="en") == "12,345.5"
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert formats.format_relative(now + timedelta(hours=2), now, language="da") == "om 2 timer"
    assert formats.format_relative(now - timedelta(days=3), now, language="da") == "for 3 dage siden"
    assert formats.format_relative(now + timedelta(hours=2), now, language="en") == "in 2 hours"
    assert formats.format_relative(now - timedelta(days=3), now, language="en") == "3 days ago"
    with i18n.use_language("da"):
        assert formats.format_duration(timedelta(minutes=90)) == "2 timer"
        assert i18n.gettext("Saved.") == "Gemt."
    assert i18n.gettext("Saved.") == "Saved."


def test_error_messages_keep_their_values_in_every_language():
    from app.core.errors import NotFound

    exc = NotFound("Case %(id)s not found", id=7)
    assert exc.message == str(exc) == "Case 7 not found"
    with i18n.use_language("da"):
        # Without a catalog entry the English text is shown, with its values.
        assert i18n.error_text(exc) == "Case 7 not found"
