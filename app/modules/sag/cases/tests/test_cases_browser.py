"""Case pages in a real browser (Chromium via Playwright): list, create, status, assign, edit."""

from __future__ import annotations

import pytest

from app.core import database
from tests.browser.conftest import browser, session_for, shot  # noqa: F401 - fixtures used below
from tests.browser.live_server import LiveServer
from tests.fixtures import make_user

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="module")
def server(app):
    s = LiveServer(app).start()
    yield s
    s.stop()


@pytest.fixture
def customer() -> dict:
    return database.execute_query(
        "INSERT INTO customers (name) VALUES ('Fjordtech Revision ApS') RETURNING id, name")[0]


def test_a_technician_creates_works_and_edits_a_case(session_for, customer):  # noqa: F811
    tech = make_user(full_name="Sofie Browser")
    s = session_for(tech)
    page = s.new_page("/sag")
    expect(page.get_by_role("link", name="My open cases")).to_have_attribute("aria-current", "page")
    expect(page.locator("#caseTable")).to_contain_text("No cases match these filters.")

    page.get_by_role("link", name="New case").click()
    page.get_by_label("Title").fill("Outlook synkroniserer ikke kalender")
    page.get_by_label("Description").fill("Startede efter opdateringen <i>i går</i>.")
    page.get_by_label("Customer").select_option(label=customer["name"])
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Deadline").fill("2030-05-01T09:30")
    page.get_by_role("button", name="Create case").click()
    expect(page.locator("h1")).to_contain_text("Outlook synkroniserer ikke kalender")
    expect(page.locator("#caseDescription")).to_have_text("Startede efter opdateringen <i>i går</i>.")
    expect(page.locator("#caseAssignee")).to_have_text("Sofie Browser")
    case_id = int(page.url.rstrip("/").split("/")[-1].split("?")[0])

    page.get_by_label("New status").select_option("waiting_customer")
    page.get_by_label("Note (optional)").fill("Afventer skærmbillede")
    page.get_by_role("button", name="Change status").click()
    # The timeline (conversation/) lists the newest entry last.
    history = page.locator("#caseHistory")
    expect(history.locator("li").last).to_contain_text("Waiting for customer")
    expect(history.locator("li").last).to_contain_text("Afventer skærmbillede")
    expect(history.locator("li").last).to_contain_text("Sofie Browser")
    shot(page, "case_page")

    page.get_by_label("Assign to").select_option("")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator("#caseAssignee")).to_have_text("Unassigned")
    page.get_by_role("button", name="Assign to me").click()
    expect(page.locator("#caseAssignee")).to_have_text("Sofie Browser")

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".invalid-feedback")).to_be_visible()
    page.get_by_label("Title").fill("Outlook synkroniserer ikke kalender (alle brugere)")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("h1")).to_contain_text("(alle brugere)")

    page.goto("/sag")
    row = page.locator(f'tr[data-case-id="{case_id}"]')
    expect(row).to_contain_text("Waiting for customer")
    expect(row).to_contain_text(customer["name"])
    shot(page, "case_list")
    assert not s.errors


def test_the_list_highlights_overdue_cases_and_filters_by_text(session_for):  # noqa: F811
    tech = make_user()
    late = database.execute_insert(
        "INSERT INTO sag_sager (title, assigned_to, deadline) VALUES ('Backup fejlede i nat', %s, "
        "now() - interval '2 hours')", (tech["id"],))
    soon = database.execute_insert(
        "INSERT INTO sag_sager (title, assigned_to, deadline) VALUES ('Certifikat udløber', %s, "
        "now() + interval '3 hours')", (tech["id"],))
    s = session_for(tech)
    page = s.new_page("/sag")
    expect(page.locator(f'tr[data-case-id="{late}"]')).to_have_class("table-danger")
    expect(page.locator(f'tr[data-case-id="{late}"]')).to_contain_text("Overdue")
    expect(page.locator(f'tr[data-case-id="{soon}"]')).to_have_class("table-warning")
    page.get_by_label("Search").fill("certifikat")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tr[data-case-id]")).to_have_count(1)
    expect(page.locator(f'tr[data-case-id="{soon}"]')).to_be_visible()
    assert not s.errors


def test_the_customer_page_lists_its_open_cases(session_for, customer):  # noqa: F811
    tech = make_user()
    for title, hours in (("NAS svarer ikke", -5), ("UPS i serverrum bipper", 4), ("Licensgennemgang", 200)):
        database.execute_insert(
            "INSERT INTO sag_sager (title, customer_id, assigned_to, deadline) "
            "VALUES (%s, %s, %s, now() + make_interval(hours => %s))", (title, customer["id"], tech["id"], hours))
    s = session_for(tech)
    page = s.new_page(f"/customers/{customer['id']}")
    panel = page.locator("#customerCases")
    expect(panel).to_contain_text("3 open")
    expect(panel).to_contain_text("1 overdue")
    expect(panel.locator("tr.table-danger")).to_contain_text("NAS svarer ikke")
    shot(page, "customer_page_cases")
    panel.get_by_role("link", name="New case").click()
    expect(page.get_by_label("Customer")).to_have_value(str(customer["id"]))
    assert not s.errors
