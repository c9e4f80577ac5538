"""The case pages in the reader's language: a Danish user sees Danish headings, saved views,
status and priority names, dates and form messages; an English user still sees English."""

from __future__ import annotations

import html
import re

import pytest

from app.core import database
from tests.fixtures import login, make_user


def _user(client, language: str) -> dict:
    user = make_user(full_name=f"Sprog {language}", language=language)
    return {**user, "csrf": login(client, user)}


@pytest.fixture
def dansk(client):
    return _user(client, "da")


@pytest.fixture
def english(client):
    return _user(client, "en")


def _case(user: dict, **fields) -> int:
    values = {"title": "Printer på 2. sal", "status": "in_progress", "priority": "high",
              "deadline": "2027-03-15 09:00+00", **fields}
    return database.execute_insert(
        "INSERT INTO sag_sager (title, status, priority, deadline, assigned_to, created_by) "
        "VALUES (%(title)s, %(status)s, %(priority)s, %(deadline)s, %(user)s, %(user)s) RETURNING id",
        {**values, "user": user["id"]})


def _text(page: str) -> str:
    """The page's text without tags, white space collapsed (for phrases that span elements)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _row(page: str, case_id: int) -> str:
    match = re.search(rf'<tr[^>]*data-case-id="{case_id}".*?</tr>', page, re.S)
    assert match, f"case {case_id} not in the list"
    return _text(match.group(0))


def test_danish_case_list_has_danish_views_statuses_priorities_and_dates(client, dansk):
    case_id = _case(dansk)
    r = client.get("/sag")
    assert r.status_code == 200
    page = r.text
    assert '<html lang="da"' in page
    assert "<h1 class=\"h3 mb-0 me-auto\">Sager</h1>" in page
    views = re.search(r'aria-label="Gemte visninger">(.*?)</ul>', page, re.S).group(1)
    assert [_text(v) for v in re.findall(r"<a [^>]*>(.*?)</a>", views)] == [
        "Mine åbne sager", "Ikke tildelt", "Forfaldne", "Frist inden for 24 t", "Alle åbne", "Alle sager"]
    row = _row(page, case_id)
    assert "I gang" in row and "Høj" in row and "15. mar. 2027 10.00" in row
    assert "In progress" not in row and "High" not in row
    # The filters: status and priority names, the open/closed choice and the sort order in Danish.
    assert ">Afventer kunde</option>" in page and ">Akut</option>" in page
    assert ">Lukkede</option>" in page and ">Frist, tidligste først</option>" in page
    assert "1 sag" in _text(page)


def test_danish_case_page_offers_statuses_in_danish_and_tells_the_timeline_in_danish(client, dansk):
    case_id = _case(dansk, status="new", priority="urgent")
    r = client.post(f"/sag/{case_id}/status", data={"csrf_token": dansk["csrf"], "status": "in_progress",
                                                   "expected_status": "new", "note": "Går i gang"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/sag/{case_id}").text
    text = _text(page)
    assert "Skift status" in text and "Beskrivelse" in text and "Tildel til" in text
    assert "Akut" in text and "15. mar. 2027 10.00" in text
    select = re.search(r'<select[^>]*id="statusSelect".*?</select>', page, re.S).group(0)
    assert [_text(o) for o in re.findall(r"<option[^>]*>(.*?)</option>", select)] == [
        "Ny", "Afventer kunde", "Sat i bero", "Løst", "Lukket"]
    # The timeline: "created as Ny", then the change Ny -> I gang with its note, by whom and when.
    entries = re.findall(r'<li class="list-group-item timeline-entry"[^>]*data-kind="(\w+)">(.*?)</li>', page, re.S)
    assert [kind for kind, _ in entries] == ["created", "status"]
    created, change = (_text(body) for _, body in entries)
    assert created.startswith("Oprettet som Ny")
    assert change.startswith("Status ændret fra Ny → I gang")
    assert "Går i gang" in change and "Sprog da" in change
    assert re.search(r"for \d+ sekund(er)? siden", change), change
    assert "2 hændelser" in text and "Tilføj notat" in text
    assert "In progress" not in text and "Created as" not in text


def test_danish_case_form_says_what_is_wrong_in_danish(client, dansk):
    form = client.get("/sag/new").text
    assert "Ny sag" in form and ">Titel</label>" in form and ">Opret sag</button>" in form
    assert ">Ingen kunde (intern)</option>" in form and ">Lav</option>" in form
    r = client.post("/sag/new", data={"csrf_token": dansk["csrf"], "title": "Ny printer", "priority": "normal",
                                      "status": "new", "customer_id": "987654", "assigned_to": "", "deadline": ""})
    assert r.status_code == 422
    assert "Kunde 987654 findes ikke" in r.text and "Ret de markerede felter." in r.text
    r = client.post("/sag/new", data={"csrf_token": dansk["csrf"], "title": "Ny printer", "priority": "normal",
                                      "status": "new", "customer_id": "", "assigned_to": "",
                                      "deadline": "1999-05-01T10:00"})
    assert r.status_code == 422 and "Fristen skal ligge mellem år 2000 og 2100" in r.text


def test_danish_dashboard_and_customer_page_count_cases_in_danish(client, dansk):
    customer = database.execute_insert("INSERT INTO customers (name) VALUES ('Tømrer Hansen ApS') RETURNING id")
    _case(dansk)
    database.execute_update("UPDATE sag_sager SET customer_id = %s WHERE created_by = %s", (customer, dansk["id"]))
    dashboard = _text(client.get("/").text)
    assert "Mine sager" in dashboard and "Ikke tildelt (alle)" in dashboard
    assert "Frist inden for 24 t" in dashboard
    page = _text(client.get(f"/customers/{customer}").text)
    assert "1 åbne" in page and "0 lukkede" in page and "Ny sag" in page
    assert "1 sag for Tømrer Hansen ApS" in page and "I gang" in page


def test_english_user_still_sees_english(client, english):
    case_id = _case(english)
    page = client.get("/sag").text
    assert '<html lang="en"' in page and "My open cases" in page and "Mine åbne sager" not in page
    row = _row(page, case_id)
    assert "In progress" in row and "High" in row and "15 Mar 2027, 10:00" in row
    detail = _text(client.get(f"/sag/{case_id}").text)
    assert "Change status" in detail and "Created as In progress" in detail and "Skift status" not in detail
    assert re.search(r"\d+ seconds? ago", detail)
    r = client.post("/sag/new", data={"csrf_token": english["csrf"], "title": "New printer", "priority": "normal",
                                      "status": "new", "customer_id": "987654", "assigned_to": "", "deadline": ""})
    assert r.status_code == 422 and "Customer 987654 does not exist" in r.text
