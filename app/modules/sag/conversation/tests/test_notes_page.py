"""The case page's timeline and note form: posting a note, refusals shown beside the form,
pagination, edit/delete controls only on notes the user may change, CSRF."""

import re
from datetime import timedelta

import pytest

from app.core import database
from tests.fixtures import login, make_user


@pytest.fixture
def signed_in(client):
    user = make_user(full_name="Freja Side")
    return {**user, "csrf": login(client, user)}


@pytest.fixture
def page_case(db) -> int:
    return database.execute_insert("INSERT INTO sag_sager (title) VALUES ('Netværk nede på kontoret') RETURNING id")


def test_posting_the_form_adds_the_note_and_returns_to_it(client, signed_in, page_case):
    r = client.post(f"/sag/{page_case}/notes", data={"csrf_token": signed_in["csrf"], "body": "Genstartede switchen"},
                    follow_redirects=False)
    assert r.status_code == 303
    note_id = database.execute_query("SELECT id, via FROM sag_notes WHERE sag_id = %s", (page_case,))[0]
    assert note_id["via"] == "web"
    assert r.headers["location"] == f"/sag/{page_case}?notice=saved#note-{note_id['id']}"
    page = client.get(f"/sag/{page_case}").text
    assert f'id="note-{note_id["id"]}"' in page and "Genstartede switchen" in page and "Freja Side" in page


def test_case_page_shows_one_timeline_with_the_note_form_and_script(client, signed_in, page_case):
    page = client.get(f"/sag/{page_case}").text
    assert page.count('id="caseTimeline"') == 1 and 'id="caseHistory"' in page
    assert 'id="noteForm"' in page and f'action="/sag/{page_case}/notes"' in page
    assert f'name="csrf_token" value="{signed_in["csrf"]}"' in page
    assert "/static/modules/sag/case_timeline.js" in page
    assert "Created as" in page


def test_blank_note_is_refused_beside_the_form(client, signed_in, page_case):
    r = client.post(f"/sag/{page_case}/notes", data={"csrf_token": signed_in["csrf"], "body": "   "})
    assert r.status_code == 422 and 'id="noteError"' in r.text and "needs some text" in r.text


def test_too_long_note_is_refused_not_cut_and_the_draft_is_kept(client, signed_in, page_case):
    r = client.post(f"/sag/{page_case}/notes", data={"csrf_token": signed_in["csrf"], "body": "å" * 20_001})
    assert r.status_code == 422 and "at most 20000 characters" in r.text
    assert "å" * 100 in r.text
    assert not database.execute_query("SELECT 1 FROM sag_notes WHERE sag_id = %s", (page_case,))


def test_note_form_without_csrf_token_is_refused(client, signed_in, page_case):
    r = client.post(f"/sag/{page_case}/notes", data={"body": "uden token"})
    assert r.status_code == 403
    assert not database.execute_query("SELECT 1 FROM sag_notes WHERE sag_id = %s", (page_case,))


def test_note_on_missing_case_page_is_404(client, signed_in):
    r = client.post("/sag/99999999/notes", data={"csrf_token": signed_in["csrf"], "body": "hej"})
    assert r.status_code == 404


def test_edit_and_delete_controls_only_on_own_notes(client, signed_in, page_case):
    other = make_user(full_name="Anden Bruger")
    database.execute_insert("INSERT INTO sag_notes (sag_id, author_id, body) VALUES (%s, %s, 'fra en anden')",
                            (page_case, other["id"]))
    mine = database.execute_insert("INSERT INTO sag_notes (sag_id, author_id, body) VALUES (%s, %s, 'min egen') "
                                   "RETURNING id", (page_case, signed_in["id"]))
    page = client.get(f"/sag/{page_case}").text
    assert page.count("data-note-edit") == 1 and page.count("data-note-delete") == 1
    assert re.search(rf'note-actions" data-note-id="{mine}"', page)


def test_edited_and_deleted_notes_say_so(client, signed_in, page_case):
    database.execute_insert("INSERT INTO sag_notes (sag_id, author_id, body, edited_at, edited_by) "
                            "VALUES (%s, %s, 'rettet', now(), %s)", (page_case, signed_in["id"], signed_in["id"]))
    database.execute_insert("INSERT INTO sag_notes (sag_id, author_id, body, deleted_at, deleted_by) "
                            "VALUES (%s, %s, 'skjult tekst', now(), %s)", (page_case, signed_in["id"], signed_in["id"]))
    page = client.get(f"/sag/{page_case}").text
    assert "· edited" in page and "Note deleted by Freja Side at" in page and "skjult tekst" not in page


def test_long_timeline_pages_back_with_older_entries(client, signed_in, page_case):
    base = database.execute_query("SELECT created_at FROM sag_sager WHERE id = %s", (page_case,))[0]["created_at"]
    for i in range(60):
        database.execute_insert("INSERT INTO sag_notes (sag_id, author_id, body, created_at) VALUES (%s, %s, %s, %s)",
                                (page_case, signed_in["id"], f"Notat nummer {i:02d}", base + timedelta(minutes=i + 1)))
    page = client.get(f"/sag/{page_case}").text
    assert "Notat nummer 59" in page and "Notat nummer 05" not in page
    assert f'href="/sag/{page_case}?timeline=2#caseTimeline"' in page
    older = client.get(f"/sag/{page_case}?timeline=2").text
    assert "Notat nummer 05" in older and "Created as" in older and "Notat nummer 59" not in older
    assert 'id="timelineNewer"' in older
    assert client.get(f"/sag/{page_case}?timeline=99").status_code == 200  # past the oldest: the oldest


def test_conversation_page_handlers_are_plain_functions():
    import inspect

    from app.modules.sag.conversation import pages

    for route in pages.router.routes:
        assert not inspect.iscoroutinefunction(route.endpoint), route.path
