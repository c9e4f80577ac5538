"""Error pages in the reader's language; the API's `detail` stays English for scripts."""

from __future__ import annotations

from tests.fixtures import login, make_user, token_for


def _danish_user() -> dict:
    user = make_user(language="da")
    return user


def test_a_missing_customer_is_a_danish_404_page_and_an_english_api_answer(client):
    user = _danish_user()
    login(client, user)
    page = client.get("/customers/987654")
    assert page.status_code == 404
    assert "<h1 class=\"display-6\">Ikke fundet</h1>" in page.text
    assert "Kunde 987654 findes ikke" in page.text and "Tilbage til overblikket" in page.text
    api = client.get("/api/v1/customers/987654", headers={"Authorization": f"Bearer {token_for(user)}"})
    assert api.status_code == 404 and api.json()["detail"] == "Customer 987654 not found"


def test_an_unknown_address_answers_in_the_browsers_language(anon_client):
    # No route, so no signed-in user is looked up: the page follows Accept-Language.
    page = anon_client.get("/no-such-page-here", headers={"Accept-Language": "da"})
    assert page.status_code == 404 and "Ikke fundet" in page.text
    page = anon_client.get("/no-such-page-here", headers={"Accept-Language": "en"})
    assert page.status_code == 404 and "Not found" in page.text


def test_a_forbidden_page_is_explained_in_danish(client):
    login(client, _danish_user())
    page = client.get("/admin/users")
    assert page.status_code == 403
    assert "Ikke tilladt" in page.text and "Det er kun administratorer, der må gøre dette" in page.text


def test_an_english_user_gets_the_english_error_page(client):
    user = make_user(language="en")
    login(client, user)
    page = client.get("/customers/987654")
    assert page.status_code == 404 and "Not found" in page.text and "Customer 987654 not found" in page.text
