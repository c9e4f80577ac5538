"""The note form in a real browser: type a note, pick a colleague from the @-autocomplete,
post it with Ctrl+Enter; then edit and delete it in place."""

from __future__ import annotations

import pytest

from app.core import database
from tests.browser.conftest import browser, server, session_for, shot  # noqa: F401 - fixtures used below
from tests.fixtures import make_user

expect = pytest.importorskip("playwright.sync_api").expect


def test_write_a_note_with_ctrl_enter_and_an_autocompleted_mention(session_for):  # noqa: F811
    make_user(username="birgitte_k", full_name="Birgitte Kjærgaard")
    make_user(username="birgitte_old", full_name="Birgitte Gammel", active=False)
    author = make_user(full_name="Ulla Skriver")
    case_id = database.execute_insert("INSERT INTO sag_sager (title) VALUES ('Scanner virker ikke') RETURNING id")
    s = session_for(author)
    page = s.new_page(f"/sag/{case_id}")
    box = page.get_by_label("Add a note")
    box.click()
    box.press_sequentially("Kan du tage et kig, @birg")
    option = page.locator("#mentionMenu .mention-option")
    expect(option).to_have_count(1)  # the deactivated colleague is not offered
    expect(option).to_have_text("Birgitte Kjærgaard (@birgitte_k)")
    option.click()
    expect(box).to_have_value('Kan du tage et kig, @"Birgitte Kjærgaard" ')
    box.press_sequentially("? Scanneren står i kælderen.")
    with page.expect_navigation():
        box.press("Control+Enter")
    note = page.locator(".timeline-entry[data-kind=note]")
    expect(note).to_have_count(1)
    expect(note.locator(".note-mention")).to_have_text('@"Birgitte Kjærgaard"')
    row = database.execute_query("SELECT body, author_id FROM sag_notes WHERE sag_id = %s", (case_id,))[0]
    assert row == {"body": 'Kan du tage et kig, @"Birgitte Kjærgaard" ? Scanneren står i kælderen.',
                   "author_id": author["id"]}
    shot(page, "case_timeline_note")

    # Keyboard choice in the autocomplete: arrow down/up and Enter pick without posting.
    box = page.get_by_label("Add a note")
    box.press_sequentially("@birgitte_")
    expect(page.locator("#mentionMenu .mention-option")).to_have_count(1)
    box.press("Enter")
    expect(box).to_have_value('@"Birgitte Kjærgaard" ')
    assert database.execute_query("SELECT count(*) AS n FROM sag_notes WHERE sag_id = %s", (case_id,))[0]["n"] == 1

    # Edit in place: the new text replaces the old one and the note says "edited".
    note.get_by_role("button", name="Edit").click()
    editor = note.locator("textarea")
    expect(editor).to_have_value(row["body"])
    editor.fill("Scanneren er fundet <b>i kælderen</b>")
    note.get_by_role("button", name="Save").click()
    expect(note.locator(".note-body")).to_have_text("Scanneren er fundet <b>i kælderen</b>")
    expect(note.locator(".note-edited")).to_be_visible()

    # Delete in place (after confirming): the body goes, who deleted it stays.
    s.confirm = True
    note.get_by_role("button", name="Delete").click()
    expect(note.locator(".note-deleted")).to_contain_text("Note deleted by Ulla Skriver")
    assert database.execute_query("SELECT deleted_by FROM sag_notes WHERE sag_id = %s",
                                  (case_id,))[0]["deleted_by"] == author["id"]
    assert s.errors == []
