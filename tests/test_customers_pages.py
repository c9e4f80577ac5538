"""Customer pages: list with search and pagination, detail, create and edit with clear form errors."""

from __future__ import annotations

import re
import uuid

import pytest

from app.core import auth
from app.core.customers import CustomerCreate, create_customer
from tests.fixtures import login, make_user


@pytest.fixture
def browser(client):
    """A signed-in browser-like client; `.csrf` holds the session's token."""
    client.csrf = login(client, make_user())
    return client


def _customer(**fields) -> dict:
    return create_customer(CustomerCreate(**{"name": f"Kunde {uuid.uuid4().hex[:8]}", **fields}))


def test_list_shows_customers_and_searches(browser):
    tag = uuid.uuid4().hex[:8]
    match = _customer(name=f"Fjordtech {tag} ApS", city="Vejle")
    other = _customer()
    page = browser.get("/customers", params={"q": tag}).text
    assert f"/customers/{match['id']}" in page and "Vejle" in page
    assert f"/customers/{other['id']}\"" not in page
    assert f'value="{tag}"' in page, "the search box keeps the query"
    assert "No customers match." in browser.get("/customers", params={"q": "zz-nothing-" + tag}).text


def test_list_paginates_with_working_links(browser):
    tag = uuid.uuid4().hex[:8]
    for n in range(30):
        _customer(name=f"Side {tag} {n:02d}")
    first = browser.get("/customers", params={"q": tag}).text
    assert "Page 1 of 2" in first and "30 customers" in first
    assert f"Side {tag} 24" in first and f"Side {tag} 25" not in first
    next_link = re.search(r'href="(\?[^"]*page=2)"', first).group(1).replace("&amp;", "&")
    second = browser.get("/customers" + next_link).text
    assert "Page 2 of 2" in second and f"Side {tag} 25" in second and f"Side {tag} 24" not in second


def test_inactive_customers_are_hidden_unless_asked_for(browser):
    tag = uuid.uuid4().hex[:8]
    c = _customer(name=f"Gammel {tag}", active=False)
    assert f"/customers/{c['id']}\"" not in browser.get("/customers", params={"q": tag}).text
    shown = browser.get("/customers", params={"q": tag, "show": "inactive"}).text
    assert f"/customers/{c['id']}\"" in shown and "inactive" in shown


def test_detail_page_shows_the_customer(browser):
    c = _customer(cvr_number=f"{uuid.uuid4().int % 10**8:08d}", email="it@kunde.dk", notes="Backup hver nat")
    page = browser.get(f"/customers/{c['id']}").text
    for text in (c["name"], c["cvr_number"], "mailto:it@kunde.dk", "Backup hver nat", f"/customers/{c['id']}/edit"):
        assert text in page


def test_unknown_customer_page_is_a_404_page(browser):
    r = browser.get("/customers/987654")
    assert r.status_code == 404
    assert "Customer 987654 not found" in r.text and "<html" in r.text


def test_create_form_saves_and_redirects_to_the_new_customer(browser):
    name = f"Ny Kunde {uuid.uuid4().hex[:6]}"
    assert browser.get("/customers/new").status_code == 200
    r = browser.post("/customers/new", data={"name": name, "city": "Roskilde", "active": "1",
                                              auth.CSRF_FIELD: browser.csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert re.fullmatch(r"/customers/\d+\?notice=created", r.headers["location"])
    page = browser.get(r.headers["location"]).text
    assert name in page and "Roskilde" in page and "Created." in page


FORM_FIELDS = ("name", "cvr_number", "email", "phone", "address", "postal_code", "city",
               "economic_customer_number", "notes")


def _as_browser_posts(**values) -> dict:
    """Every field of the form, blank unless given: what a browser sends."""
    return {field: values.get(field, "") for field in FORM_FIELDS} | {
        k: v for k, v in values.items() if k not in FORM_FIELDS}


def test_a_form_with_only_the_name_filled_in_is_accepted(browser):
    name = f"Kun Navn {uuid.uuid4().hex[:6]}"
    r = browser.post("/customers/new", data=_as_browser_posts(name=name, active="1", csrf_token=browser.csrf),
                     follow_redirects=False)
    assert r.status_code == 303, r.text
    cid = int(r.headers["location"].split("/")[2].split("?")[0])
    r = browser.get(f"/api/v1/customers/{cid}").json()
    assert r["economic_customer_number"] is None and r["email"] is None and r["active"] is True


def test_blanking_a_field_in_the_edit_form_clears_it(browser):
    c = _customer(phone="+45 11 22 33 44", city="Vejle")
    r = browser.post(f"/customers/{c['id']}/edit",
                     data=_as_browser_posts(name=c["name"], city="Vejle", active="1", csrf_token=browser.csrf),
                     follow_redirects=False)
    assert r.status_code == 303, r.text
    after = browser.get(f"/api/v1/customers/{c['id']}").json()
    assert after["phone"] is None and after["city"] == "Vejle" and after["active"] is True


def test_form_errors_are_in_plain_words(browser):
    r = browser.post("/customers/new", data=_as_browser_posts(economic_customer_number="many",
                                                               csrf_token=browser.csrf))
    assert "This field is required." in r.text
    assert "Enter a whole number." in r.text


def test_create_form_shows_each_error_next_to_its_field_and_keeps_the_input(browser):
    r = browser.post("/customers/new", data={"name": "", "cvr_number": "12", "email": "nope",
                                              "city": "Kolding", auth.CSRF_FIELD: browser.csrf})
    assert r.status_code == 422
    assert "Please correct the marked fields." in r.text
    assert "A CVR number is 8 digits." in r.text
    assert "Enter a valid e-mail address." in r.text
    assert r.text.count("is-invalid") >= 3
    assert 'value="Kolding"' in r.text, "what the user typed is kept"


def test_duplicate_cvr_in_the_form_is_explained(browser):
    cvr = f"{uuid.uuid4().int % 10**8:08d}"
    _customer(cvr_number=cvr)
    r = browser.post("/customers/new", data={"name": "Kopi", "cvr_number": cvr, auth.CSRF_FIELD: browser.csrf})
    assert r.status_code == 409
    assert "Another customer already has this CVR number" in r.text


def test_edit_form_updates_the_customer(browser):
    c = _customer(city="Herning")
    form = browser.get(f"/customers/{c['id']}/edit").text
    assert 'value="Herning"' in form
    r = browser.post(f"/customers/{c['id']}/edit", data={"name": c["name"], "city": "Silkeborg",
                                                         auth.CSRF_FIELD: browser.csrf}, follow_redirects=False)
    assert r.status_code == 303
    page = browser.get(r.headers["location"]).text
    assert "Silkeborg" in page and "Saved." in page
    assert "inactive" in page, "an unticked Active box deactivates"


def test_edit_form_errors_keep_the_other_values(browser):
    c = _customer(city="Randers")
    r = browser.post(f"/customers/{c['id']}/edit", data={"name": "", "city": "Randers",
                                                         auth.CSRF_FIELD: browser.csrf})
    assert r.status_code == 422
    assert 'value="Randers"' in r.text


def test_hostile_html_is_escaped_on_every_page(browser):
    evil = '<script>alert("x")</script>'
    c = _customer(name=f"{evil} {uuid.uuid4().hex[:6]}", notes=evil, city=evil)
    for url in (f"/customers/{c['id']}", f"/customers/{c['id']}/edit", "/customers?q=script"):
        page = browser.get(url).text
        assert evil not in page, url
        assert "&lt;script&gt;" in page, url


def test_dashboard_counts_active_customers(browser):
    page = browser.get("/").text
    assert 'data-testid="active-customers"' in page
    assert "Customers" in page and "/customers" in page
