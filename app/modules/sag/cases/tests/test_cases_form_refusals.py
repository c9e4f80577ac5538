"""A refused case form is shown again (by the edge's FormError) with the message where it belongs,
the status the refusal has, and what the user typed; the page handlers are plain functions."""

from __future__ import annotations

import inspect

import pytest

from app.core import database
from app.core.config import reset_settings
from tests.fixtures import login, make_user
from tests.test_route_protection import _routes


@pytest.fixture
def tech(client):
    user = make_user()
    return {**user, "csrf": login(client, user)}


@pytest.fixture
def case_id() -> int:
    return database.execute_insert(
        "INSERT INTO sag_sager (title, description) VALUES ('Printer på 2. sal', 'Papirstop')")


@pytest.fixture
def dry_run(monkeypatch):
    monkeypatch.setenv("MODULES__SAG__DRY_RUN", "true")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def _case(case_id: int) -> dict:
    return database.execute_query("SELECT * FROM sag_sager WHERE id = %s", (case_id,))[0]


def _edit(case_id: int, csrf: str, **fields) -> dict:
    return {"csrf_token": csrf, "version": "1", "title": "Printer på 2. sal", "description": "Papirstop",
            "priority": "normal", "customer_id": "", "assigned_to": "", "deadline": "", **fields}


def test_sag_page_handlers_are_plain_functions(app):
    pages = [(path, method, route.endpoint) for path, method, route in _routes(app)
             if path.startswith("/sag") and method in ("GET", "POST")]
    assert any(path == "/sag/new" and method == "POST" for path, method, _ in pages)
    for path, method, endpoint in pages:
        assert not inspect.iscoroutinefunction(endpoint), f"{method} {path} is async"


def test_refused_create_form_keeps_what_was_typed(client, tech):
    before = database.execute_query("SELECT count(*) AS n FROM sag_sager")[0]["n"]
    r = client.post("/sag/new", data={"csrf_token": tech["csrf"], "title": "", "description": "Skærm flimrer",
                                      "priority": "high", "status": "new", "deadline": "2031-03-01T10:30"})
    assert r.status_code == 422
    assert 'id="title" name="title" value=""' in r.text and "This field is required." in r.text
    assert ">Skærm flimrer</textarea>" in r.text and "2031-03-01T10:30" in r.text
    assert database.execute_query("SELECT count(*) AS n FROM sag_sager")[0]["n"] == before


def test_refused_create_form_puts_a_domain_message_on_its_field(client, tech):
    r = client.post("/sag/new", data={"csrf_token": tech["csrf"], "title": "Ny server", "priority": "normal",
                                      "status": "new", "assigned_to": "987654"})
    assert r.status_code == 422
    assert 'class="form-select is-invalid" id="assigned_to"' in r.text
    assert 'value="Ny server"' in r.text


def test_refused_edit_form_shows_the_field_message_and_no_conflict(client, tech, case_id):
    r = client.post(f"/sag/{case_id}/edit", data=_edit(case_id, tech["csrf"], title="x" * 201,
                                                        description="Ny beskrivelse"))
    assert r.status_code == 422
    assert "at most 200 characters" in r.text and 'id="conflictAlert"' not in r.text
    assert ">Ny beskrivelse</textarea>" in r.text
    assert _case(case_id)["description"] == "Papirstop"


def test_edit_of_a_missing_case_is_404(client, tech):
    assert client.post("/sag/99999999/edit", data=_edit(0, tech["csrf"])).status_code == 404


def test_edit_refused_by_dry_run_says_so_without_a_conflict(client, tech, case_id, dry_run):
    r = client.post(f"/sag/{case_id}/edit", data=_edit(case_id, tech["csrf"], title="Ændret"))
    assert r.status_code == 409
    assert "DRY_RUN" in r.text and 'id="conflictAlert"' not in r.text
    assert 'value="Ændret"' in r.text and 'name="version" value="1"' in r.text
    assert _case(case_id)["title"] == "Printer på 2. sal"


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"status": "no_such_status"}, 422, "Unknown status"),
    ({"status": "in_progress", "expected_status": "closed"}, 409, "by someone else meanwhile"),
])
def test_refused_status_change_is_one_message_on_the_case_page(client, tech, case_id, form, status, message):
    r = client.post(f"/sag/{case_id}/status", data={"csrf_token": tech["csrf"], **form})
    assert r.status_code == status
    assert 'id="caseError"' in r.text and message in r.text and 'id="statusForm"' in r.text
    assert _case(case_id)["status"] == "new"


@pytest.mark.parametrize(("user_id", "message"), [
    ("abc", "user_id must be a positive whole number"),
    ("987654", "987654"),
])
def test_refused_assignment_is_one_message_on_the_case_page(client, tech, case_id, user_id, message):
    r = client.post(f"/sag/{case_id}/assign", data={"csrf_token": tech["csrf"], "user_id": user_id})
    assert r.status_code == 422
    assert 'id="caseError"' in r.text and message in r.text
    assert _case(case_id)["assigned_to"] is None


def test_status_change_of_a_missing_case_is_404(client, tech):
    r = client.post("/sag/99999999/status", data={"csrf_token": tech["csrf"], "status": "closed"})
    assert r.status_code == 404


def test_refused_delete_shows_the_reason_on_the_delete_page(client, case_id, dry_run):
    admin = make_user("admin")
    csrf = login(client, admin)
    r = client.post(f"/sag/{case_id}/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 409
    assert 'id="deleteError"' in r.text and "DRY_RUN" in r.text and "Delete permanently" in r.text
    assert _case(case_id)
