"""Danish and English in a real browser: switching on the profile page, and the main pages in
Danish (screenshots under test-artifacts/browser/, named da_*)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.conftest import shot
from tests.browser.helpers import Api, change_status, create_case
from tests.fixtures import make_user

expect = pytest.importorskip("playwright.sync_api", reason="the Python package 'playwright' is not installed").expect


def test_switching_the_language_on_the_profile_page(session_for):
    user = make_user()
    s = session_for(user)
    page = s.new_page("/me")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("My profile")
    page.get_by_label("Pages, e-mails and reminders in").select_option("da")
    with page.expect_navigation():
        page.locator("#languageForm").get_by_role("button", name="Save").click()
    expect(page.locator("html")).to_have_attribute("lang", "da")
    expect(page.get_by_role("heading", level=1)).to_have_text("Min profil")
    expect(page.get_by_role("status")).to_contain_text("Gemt.")
    # The choice follows the user to every page and tab.
    other = s.new_page("/me")
    expect(other.locator("html")).to_have_attribute("lang", "da")
    page.get_by_label("Sider, e-mails og påmindelser på").select_option("en")
    with page.expect_navigation():
        page.locator("#languageForm").get_by_role("button", name="Gem").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My profile")
    assert s.errors == []


def test_the_main_pages_in_danish(session_for, server):
    admin = make_user("admin", language="da", full_name="Mette Madsen")
    api = Api(server, admin)
    deadline = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    case = create_case(api, admin, title="Printeren på 2. sal virker ikke", deadline=deadline.isoformat(),
                       priority="high")
    change_status(api, case["id"], "in_progress")
    api.call("POST", f"/api/v1/sag/{case['id']}/notes", {"body": "Jeg kigger på den i eftermiddag."})
    s = session_for(admin)
    pages = [
        ("/", "da_dashboard"),
        ("/sag", "da_case_list"),
        (f"/sag/{case['id']}", "da_case_page"),
        ("/sag/new", "da_case_form"),
        ("/sag/reminders", "da_notifications"),
        ("/me/notifications", "da_notification_preferences"),
        ("/customers", "da_customers"),
        ("/sag/sla/report", "da_sla_report"),
        ("/admin/users", "da_admin_users"),
        ("/me", "da_profile"),
    ]
    for path, name in pages:
        page = s.new_page(path)
        expect(page.locator("html")).to_have_attribute("lang", "da")
        shot(page, name)
        page.close()
    case_page = s.new_page(f"/sag/{case['id']}")
    expect(case_page.locator("body")).to_contain_text("I gang")
    expect(case_page.locator("body")).not_to_contain_text("In progress")
    assert s.errors == []
