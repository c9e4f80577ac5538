"""The case pages in Danish in a real browser: the list and the case page (kept as screenshots),
and the timeline script's own texts (edit/delete in place, the confirm question) in Danish."""

from __future__ import annotations

import pytest

from app.core import database
from tests.browser.conftest import browser, server, session_for, shot  # noqa: F401 - fixtures used below
from tests.fixtures import make_user

expect = pytest.importorskip("playwright.sync_api").expect


def test_danish_technician_works_a_case_and_its_notes_in_danish(session_for):  # noqa: F811
    tech = make_user(full_name="Mette Dansk", language="da")
    case_id = database.execute_insert(
        "INSERT INTO sag_sager (title, priority, deadline, assigned_to, created_by) "
        "VALUES ('Netværksprinter offline', 'high', '2027-01-05 08:00+00', %s, %s) RETURNING id",
        (tech["id"], tech["id"]))
    s = session_for(tech)
    page = s.new_page("/sag")
    expect(page.get_by_role("link", name="Mine åbne sager")).to_have_attribute("aria-current", "page")
    row = page.locator(f"#caseTable tr[data-case-id='{case_id}']")
    expect(row).to_contain_text("Ny")
    expect(row).to_contain_text("Høj")
    expect(row).to_contain_text("5. jan. 2027 09.00")
    shot(page, "da_case_list")

    page.get_by_role("link", name="Netværksprinter offline").click()
    page.get_by_label("Ny status").select_option(label="I gang")
    page.get_by_label("Notat (valgfrit)").fill("Kigger på det nu")
    page.get_by_role("button", name="Skift status").click()
    last = page.locator("#caseHistory li").last
    expect(last).to_contain_text("I gang")
    expect(last).to_contain_text("Kigger på det nu")
    expect(last.locator("time")).to_contain_text("siden")

    box = page.get_by_label("Tilføj et notat")
    box.fill("Printeren har fået ny IP-adresse.")
    with page.expect_navigation():
        box.press("Control+Enter")
    note = page.locator(".timeline-entry[data-kind=note]")
    expect(note).to_contain_text("skrev")
    shot(page, "da_case_page")

    # The script's buttons and messages are Danish too.
    note.get_by_role("button", name="Redigér").click()
    expect(note.get_by_role("button", name="Annullér")).to_be_visible()
    note.locator("textarea").fill("Printeren har fået fast IP-adresse.")
    note.get_by_role("button", name="Gem").click()
    expect(note.locator(".note-edited")).to_have_text("· redigeret")
    s.confirm = True
    note.get_by_role("button", name="Slet").click()
    expect(note.locator(".note-deleted")).to_have_text("Notat slettet af Mette Dansk lige nu")
    assert s.dialogs == ["Slet notatet? Tidslinjen viser, at det er slettet."]
    assert s.errors == []
