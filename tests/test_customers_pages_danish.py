"""The customer pages in Danish: list, detail, form and its error messages; English stays English."""

from __future__ import annotations

import uuid

import pytest

from app.core.customers import CustomerCreate, create_customer
from tests.fixtures import login, make_user


def _browser(client, language: str):
    user = make_user(language=language)
    client.csrf = login(client, user)
    return client


@pytest.fixture
def danish(client):
    return _browser(client, "da")


def _customer(**fields) -> dict:
    return create_customer(CustomerCreate(**{"name": f"Kunde {uuid.uuid4().hex[:8]}", **fields}))


def test_the_list_is_in_danish(danish):
    tag = uuid.uuid4().hex[:8]
    for n in range(26):
        _customer(name=f"Dansk {tag} {n:02d}", city="Aarhus")
    _customer(name=f"Dansk {tag} gammel", active=False)
    page = danish.get("/customers", params={"q": tag}).text
    for text in ("<title>Kunder · BMC Hub</title>", "Ny kunde", 'placeholder="Søg på navn, CVR, e-mail eller by"',
                 ">Aktive</option>", ">Inaktive</option>", ">Alle</option>", "<th>Telefon</th>", "e-conomic-nr.",
                 "Side 1 af 2", "26 kunder", ">Næste</a>", ">Forrige</a>"):
        assert text in page, text
    one = danish.get("/customers", params={"q": f"{tag} gammel", "show": "inactive"}).text
    assert "1 kunde</p>" in one and ">inaktiv</span>" in one
    assert "Ingen kunder passer på søgningen." in danish.get("/customers", params={"q": "zz-" + tag}).text


def test_the_detail_page_is_in_danish_with_a_danish_date(danish):
    c = _customer(phone="70 20 30 40", city="Odense")
    page = danish.get(f"/customers/{c['id']}").text
    for text in ("<dt class=\"col-5\">Telefon</dt>", "<dt class=\"col-5\">Adresse</dt>", "Opdateret", ">Redigér</a>",
                 'href="/customers">Kunder</a>'):
        assert text in page, text
    months = ("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec.")
    assert any(f" {m} 20" in page for m in months), "the updated time in Danish (e.g. 1. dec. 2026 14.05)"


def test_the_form_and_its_errors_are_in_danish(danish):
    page = danish.get("/customers/new").text
    for text in ("<h1 class=\"h3 mb-3\">Ny kunde</h1>", ">CVR-nummer</label>", ">Postnummer</label>", "8 cifre",
                 ">Gem</button>", ">Annullér</a>"):
        assert text in page, text
    r = danish.post("/customers/new", data={"csrf_token": danish.csrf, "name": "", "cvr_number": "12ab"})
    assert r.status_code == 422
    assert "Ret de markerede felter." in r.text
    assert "Feltet skal udfyldes." in r.text and "Et CVR-nummer består af 8 cifre." in r.text


def test_a_refused_change_is_explained_in_danish(danish):
    cvr = f"{uuid.uuid4().int % 10**8:08d}"
    _customer(cvr_number=cvr)
    r = danish.post("/customers/new", data={"csrf_token": danish.csrf, "name": "Dublet ApS", "cvr_number": cvr})
    assert r.status_code == 409 and "En anden kunde har allerede dette CVR-nummer" in r.text


def test_a_created_customer_is_announced_in_danish(danish):
    r = danish.post("/customers/new", data={"csrf_token": danish.csrf, "name": f"Ny {uuid.uuid4().hex[:6]}"})
    assert r.status_code == 200 and "Oprettet." in r.text


def test_an_english_user_still_sees_the_english_pages(client):
    english = _browser(client, "en")
    c = _customer()
    assert "New customer" in english.get("/customers").text
    assert "<dt class=\"col-5\">Phone</dt>" in english.get(f"/customers/{c['id']}").text
    r = english.post("/customers/new", data={"csrf_token": english.csrf, "name": ""})
    assert "This field is required." in r.text and "Please correct the marked fields." in r.text
