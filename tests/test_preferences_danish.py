"""The notification preferences page in Danish, its form errors included."""

from __future__ import annotations

from tests.fixtures import login, make_user


def test_a_danish_user_sets_the_preferences_in_danish(client):
    user = make_user(language="da")
    csrf = login(client, user)
    page = client.get("/me/notifications").text
    for text in ("<h1 class=\"h3 mb-1\">Indstillinger for notifikationer</h1>", ">Kanaler</h2>", ">Stille timer</h2>",
                 "Brug stille timer", ">Tidszone</label>", "Gem indstillinger", "Skrivebordsnotifikationer",
                 "Slå skrivebordsnotifikationer til", f"På e-mail til {user['email']}"):
        assert text in page, text
    r = client.post("/me/notifications", data={"csrf_token": csrf, "quiet_hours_enabled": "1",
                                               "quiet_hours_start": "22:00", "quiet_hours_end": "22:00",
                                               "timezone": "Europe/Copenhagen"})
    assert r.status_code == 422
    assert "Stille timer skal starte og slutte på forskellige tidspunkter" in r.text
