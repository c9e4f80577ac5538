"""The calendar editor in a real browser: create a calendar from text fields, see its
preview, change it, give it to a customer, and read the editor's own error messages."""

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


def test_an_admin_creates_and_edits_a_calendar(session_for):  # noqa: F811
    customer = database.execute_query("INSERT INTO customers (name) VALUES ('Vestkyst El ApS') RETURNING id")[0]
    s = session_for(make_user("admin"))
    page = s.new_page("/sag/calendars")
    page.get_by_role("link", name="New calendar").click()
    page.get_by_label("Name").fill("Support Aarhus")
    page.get_by_label("Saturday").fill("10:00-14:00")
    page.get_by_label("Closed dates").fill("2030-12-24 Christmas Eve\n2030-12-31")
    page.get_by_label("Special hours").fill("2030-12-23 08:00-12:00 Half day")
    page.get_by_role("button", name="Create calendar").click()
    expect(page.locator("h1")).to_contain_text("Support Aarhus")
    expect(page.locator("#calPreview tr")).to_have_count(14)
    expect(page.locator("#calHolidays")).to_contain_text("Christmas Day")
    cal_id = int(page.url.rstrip("/").split("/")[-1])
    row = database.execute_query("SELECT weekly_hours FROM sag_calendars WHERE id = %s", (cal_id,))[0]
    assert row["weekly_hours"]["sat"] == [{"start": "10:00", "end": "14:00"}]
    days = database.execute_query("SELECT day::text, hours, note FROM sag_calendar_days WHERE calendar_id = %s "
                                  "ORDER BY day", (cal_id,))
    assert [(d["day"], d["note"]) for d in days] == [("2030-12-23", "Half day"), ("2030-12-24", "Christmas Eve"),
                                                    ("2030-12-31", "")]
    shot(page, "calendar_editor")

    # Text the editor cannot read is explained before anything is sent; the API explains the rest.
    page.get_by_label("Monday").fill("8-12")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#toastArea")).to_contain_text('"8-12" is not an interval')
    page.get_by_label("Monday").fill("08:00-12:00, 11:00-13:00")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#toastArea")).to_contain_text("overlap")
    page.get_by_label("Monday").fill("07:00-15:00")
    # A good save reloads the page; wait for it, or the reload would cancel the next request.
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Monday")).to_have_value("07:00-15:00")

    page.get_by_label("Customer").select_option(str(customer["id"]))
    with page.expect_navigation():
        page.get_by_role("button", name="Give this calendar").click()
    expect(page.locator("#calCustomers")).to_contain_text("Vestkyst El ApS")
    assert database.execute_query("SELECT calendar_id FROM sag_customer_calendars WHERE customer_id = %s",
                                  (customer["id"],))[0]["calendar_id"] == cal_id


def test_the_editor_speaks_danish_to_a_danish_admin(session_for):  # noqa: F811
    admin = make_user("admin", language="da")
    s = session_for(admin)
    page = s.new_page("/sag/calendars/new")
    page.get_by_label("Navn").fill("Support Odense")
    page.get_by_label("Mandag").fill("8-12")
    page.get_by_role("button", name="Opret kalender").click()
    expect(page.locator("#toastArea")).to_contain_text('Mandag: "8-12" er ikke et interval som 08:00-12:00')
    page.get_by_label("Mandag").fill("08:00-16:00")
    page.get_by_label("Lukkedage").fill("24. december")
    page.get_by_role("button", name="Opret kalender").click()
    expect(page.locator("#toastArea")).to_contain_text("Lukkedage, linje 1: start med en dato som 2026-12-24")
    page.get_by_label("Lukkedage").fill("2030-12-24 Juleaften")
    with page.expect_navigation(timeout=30_000):
        page.get_by_role("button", name="Opret kalender").click()
    expect(page.locator("#calHolidays")).to_contain_text("Juledag")  # the holidays package's Danish names
    expect(page.locator("#calPreview")).to_contain_text("08:00-16:00")
    shot(page, "calendar_editor_da")
    assert not s.errors, s.errors
