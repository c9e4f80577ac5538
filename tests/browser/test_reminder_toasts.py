"""Reminder toasts in a real browser: live arrival, actions, missed reminders, escaping, the bell."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import shot
from tests.browser.helpers import Api, change_status, create_case, create_rule, wait_for_logs, wait_for_row
from tests.fixtures import make_user

expect = pytest.importorskip("playwright.sync_api", reason="the Python package 'playwright' is not installed").expect

TOAST = ".reminder-toast"


def scene(server, title: str | None = None):
    """A technician with a case that reminds its assignee on every status change, and a colleague."""
    tech, colleague = make_user(), make_user()
    api = Api(server, colleague)
    case = create_case(api, tech, title)
    create_rule(case["id"], colleague)
    return tech, api, case


def test_a_status_change_by_another_user_pops_up_on_the_open_case_list(session_for, server):
    tech, api, case = scene(server)
    s = session_for(tech)
    page = s.new_page("/sag")
    expect(page.locator("#notificationBell")).to_have_attribute("data-live", "1")
    change_status(api, case["id"], "in_progress")
    toast = page.locator(TOAST)
    expect(toast).to_have_count(1)
    expect(toast.locator(".reminder-title")).to_have_text("Case moved to in_progress")
    expect(toast.locator(".reminder-case")).to_have_text(f"#{case['id']} · {case['title']}")
    expect(toast.locator(".reminder-message")).to_have_text("Someone changed the status.")
    expect(toast.locator(".toast-header")).to_have_class("toast-header text-bg-warning")
    expect(toast.get_by_role("button", name="Open")).to_be_visible()
    shot(page, "toast_on_case_list")
    # Shown means seen (once).
    log = wait_for_logs(tech, case["id"])[0]
    wait_for_row(log["id"], lambda r: r["seen_at"] is not None, "seen_at")
    assert not s.errors


def test_a_reminder_sent_while_the_page_was_closed_shows_on_the_next_page_load(session_for, server):
    tech, api, case = scene(server)
    s = session_for(tech)
    change_status(api, case["id"], "waiting_customer")
    log = wait_for_logs(tech, case["id"])[0]
    assert log["seen_at"] is None
    page = s.new_page("/")
    expect(page.locator(f'{TOAST}[data-log-id="{log["id"]}"]')).to_be_visible()
    wait_for_row(log["id"], lambda r: r["seen_at"] is not None, "seen_at")
    # Seen now: the next page does not show it again.
    page.goto("/customers")
    expect(page.locator("#notificationBell")).to_have_attribute("data-live", "1")
    expect(page.locator(TOAST)).to_have_count(0)


def test_a_hostile_case_title_is_shown_as_text(session_for, server):
    hostile = "<img src=x onerror=alert(1)>"
    tech, api, case = scene(server, title=hostile)
    s = session_for(tech)
    page = s.new_page("/sag")
    expect(page.locator("#notificationBell")).to_have_attribute("data-live", "1")
    change_status(api, case["id"], "on_hold")
    toast = page.locator(TOAST)
    expect(toast.locator(".reminder-case")).to_have_text(f"#{case['id']} · {hostile}")
    assert toast.locator("img").count() == 0
    shot(page, "toast_hostile_title")
    assert s.dialogs == []


def test_a_burst_shows_a_few_toasts_plus_and_n_more_and_the_bell_counts_live(session_for, server):
    tech, colleague = make_user(), make_user()
    api = Api(server, colleague)
    cases = [create_case(api, tech) for _ in range(5)]
    for c in cases:
        create_rule(c["id"], colleague)
    s = session_for(tech)
    page = s.new_page("/sag")
    bell = page.locator("#notificationBell")
    expect(bell).to_have_attribute("data-live", "1")
    expect(page.locator("#notificationCount")).to_be_hidden()
    for c in cases:
        change_status(api, c["id"], "in_progress")
    expect(page.locator(TOAST)).to_have_count(3)
    expect(page.locator("#reminderMore")).to_contain_text("and 2 more reminders")
    # The three on screen are seen; the two waiting are still unread.
    expect(page.locator("#notificationCount")).to_have_text("2")
    shot(page, "toast_burst_and_bell")
    # Closing one brings the next forward.
    page.locator(TOAST).first.get_by_role("button", name="Dismiss", exact=True).click()
    expect(page.locator("#reminderMore")).to_contain_text("and 1 more reminder")
    expect(page.locator("#notificationCount")).to_have_text("1")
    # Marking everything read elsewhere (another tab, a script) clears the bell live.
    unread = [r["id"] for r in wait_for_logs(tech, None, n=5) if r["seen_at"] is None]
    Api(server, tech).call("POST", "/api/v1/sag/reminders/mine/bulk", {"ids": unread, "action": "seen"})
    expect(page.locator("#notificationCount")).to_be_hidden()
    # The bell opens the reminder list.
    page.locator("#notificationBell").click()
    page.wait_for_url("**/sag/reminders")
    expect(page.locator("#reminderList [data-log-id]")).to_have_count(5)


def test_turning_in_app_off_in_preferences_stops_toasts(session_for, server):
    tech, api, case = scene(server)
    s = session_for(tech)
    page = s.new_page("/me/notifications")
    shot(page, "preferences")
    page.get_by_label("In the browser (pop-up toasts and the bell)").uncheck()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.get_by_label("In the browser (pop-up toasts and the bell)")).not_to_be_checked()
    page.goto("/sag")
    expect(page.locator("#notificationBell")).to_have_attribute("data-live", "1")
    change_status(api, case["id"], "in_progress")
    # The worker records the reminder as suppressed; nothing is pushed, so no toast appears.
    wait_for_logs(tech, case["id"], status="suppressed")
    page.wait_for_timeout(500)
    expect(page.locator(TOAST)).to_have_count(0)
    # Switching it back on brings toasts back.
    page.goto("/me/notifications")
    page.get_by_label("In the browser (pop-up toasts and the bell)").check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    page.goto("/sag")
    expect(page.locator("#notificationBell")).to_have_attribute("data-live", "1")
    change_status(api, case["id"], "waiting_customer")
    expect(page.locator(TOAST)).to_have_count(1)


def test_preferences_page_shows_validation_messages(session_for, server):
    s = session_for(make_user())
    page = s.new_page("/me/notifications")
    page.get_by_label("Use quiet hours").check()
    page.fill("#quiet_hours_start", "22:00")
    page.fill("#max_per_hour", "0")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.locator('[data-error-for="max_per_hour"]')).to_be_visible()
    expect(page.locator("#max_per_hour")).to_have_class(re.compile(r"\bis-invalid\b"))
    shot(page, "preferences_errors")
    page.fill("#max_per_hour", "10")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.locator('[data-error-for="__all__"]')).to_contain_text("Quiet hours need both")
