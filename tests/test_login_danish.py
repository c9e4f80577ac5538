"""The login page speaks the browser's language (Accept-Language) until someone signs in."""

from __future__ import annotations

from tests.fixtures import make_user


def test_a_danish_browser_gets_the_danish_login_page(anon_client):
    page = anon_client.get("/login", headers={"Accept-Language": "da-DK,da;q=0.9,en;q=0.8"}).text
    assert '<html lang="da"' in page
    for text in ("<h1 class=\"h5 mb-3\">Log ind</h1>", "Brugernavn eller e-mail", "Adgangskode",
                 "Kunder, sager og påmindelser"):
        assert text in page
    assert "Username or e-mail" not in page


def test_an_english_browser_gets_the_english_login_page(anon_client):
    page = anon_client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
    assert '<html lang="en"' in page
    assert "Sign in</h1>" in page and "Username or e-mail" in page and "Adgangskode" not in page


def test_a_wrong_password_is_refused_in_the_browsers_language(anon_client):
    user = make_user()
    r = anon_client.post("/login", data={"username": user["username"], "password": "not-the-password"},
                         headers={"Accept-Language": "da"})
    assert r.status_code == 401 and "Forkert brugernavn eller adgangskode." in r.text
    r = anon_client.post("/login", data={"username": user["username"], "password": "not-the-password"},
                         headers={"Accept-Language": "en"})
    assert r.status_code == 401 and "Wrong username or password." in r.text


def test_signing_out_says_so_in_the_browsers_language(anon_client):
    page = anon_client.get("/login?notice=logged_out", headers={"Accept-Language": "da"}).text
    assert "Du er logget ud." in page
