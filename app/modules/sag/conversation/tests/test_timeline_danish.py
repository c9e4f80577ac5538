"""The case timeline in the reader's language: each kind of entry worded in Danish (status names
from sag_statuses.label_da, dates by Babel, relative times), the note form and the script's texts;
an English reader gets the same timeline in English."""

from __future__ import annotations

import html
import json
import re

import pytest

from app.core import database
from tests.fixtures import login, make_user


@pytest.fixture
def reader(client):
    def sign_in(language: str) -> dict:
        user = make_user(full_name="Karen Læser", language=language)
        return {**user, "csrf": login(client, user)}
    return sign_in


@pytest.fixture
def busy_case(user_api) -> int:
    """A case with every kind of entry: created, status change, assignment, deadline, notes."""
    colleague = make_user(full_name="Jonas Tidslinje")
    author = user_api.user
    case_id = user_api.post("/api/v1/sag", json={"title": "Server nede"}).json()["id"]
    assert user_api.post(f"/api/v1/sag/{case_id}/status",
                         json={"status": "waiting_customer", "note": "Venter på svar"}).is_success
    assert user_api.post(f"/api/v1/sag/{case_id}/assign", json={"user_id": colleague["id"]}).is_success
    version = user_api.get(f"/api/v1/sag/{case_id}").json()["version"]
    assert user_api.patch(f"/api/v1/sag/{case_id}", json={
        "version": version, "deadline": "2026-12-24T11:00:00+00:00"}).is_success
    database.execute_insert("INSERT INTO sag_notes (sag_id, author_id, body, via) VALUES (%s, %s, 'Svar fra kunden', "
                            "'email')", (case_id, author["id"]))
    database.execute_insert("INSERT INTO sag_notes (sag_id, author_id, body, deleted_at, deleted_by) "
                            "VALUES (%s, %s, 'skjult', '2026-11-30 08:15+00', %s)",
                            (case_id, author["id"], author["id"]))
    return case_id


def _entries(page: str) -> dict[str, str]:
    """{kind: the text of the case page's timeline entries of that kind, joined by " | "}."""
    entries: dict[str, str] = {}
    found = re.findall(r'<li class="list-group-item timeline-entry"[^>]*data-kind="(\w+)">(.*?)</li>', page, re.S)
    for kind, body in found:
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
        entries[kind] = f"{entries[kind]} | {text}" if kind in entries else text
    return entries


def test_danish_timeline_tells_every_entry_in_danish(client, reader, busy_case):
    reader("da")
    page = client.get(f"/sag/{busy_case}").text
    entries = _entries(page)
    assert entries["created"].startswith("Oprettet som Ny")
    assert entries["status"].startswith("Status ændret fra Ny → Afventer kunde")
    assert "Venter på svar" in entries["status"]
    assert entries["assignment"].startswith("Tildelt Jonas Tidslinje")
    assert entries["deadline"].startswith("Frist sat til 24. dec. 2026 12.00")
    assert "skrev via e-mail" in entries["note"] and "Notat slettet af" in entries["note"]
    assert "den 30. nov. 2026 09.15" in entries["note"]
    assert re.search(r"for \d+ (sekund|sekunder|minut) siden", entries["status"]), entries["status"]
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Tidslinje" in text and "6 hændelser" in text and "Tilføj et notat" in text
    assert 'placeholder="Hvad har du gjort? @navn nævner en kollega"' in page
    # The in-place edit/delete script's texts come translated with the page.
    messages = json.loads(re.search(r'<script type="application/json" id="hubMessages">(.*?)</script>',
                                    page, re.S).group(1))
    assert messages["Delete this note? The timeline will show that it was deleted."] == (
        "Slet notatet? Tidslinjen viser, at det er slettet.")
    assert messages["Note deleted by %(name)s just now"] == "Notat slettet af %(name)s lige nu"


def test_danish_note_refusal_is_danish(client, reader, busy_case):
    user = reader("da")
    r = client.post(f"/sag/{busy_case}/notes", data={"csrf_token": user["csrf"], "body": "   "})
    assert r.status_code == 422 and "Et notat skal have noget tekst" in r.text


def test_english_timeline_stays_english(client, reader, busy_case):
    reader("en")
    entries = _entries(client.get(f"/sag/{busy_case}").text)
    assert entries["status"].startswith("Status changed from New → Waiting for customer")
    assert entries["assignment"].startswith("Assigned to Jonas Tidslinje")
    assert entries["deadline"].startswith("Deadline set to 24 Dec 2026, 12:00")
    assert "wrote by e-mail" in entries["note"] and "Note deleted by" in entries["note"]
    assert re.search(r"\d+ (seconds?|minutes?) ago", entries["status"])
