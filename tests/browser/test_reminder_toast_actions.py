"""Acting on a toast (Open, Snooze, Dismiss) changes the log row; tabs stay in step; reconnects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import realtime
from tests.browser.conftest import shot
from tests.browser.helpers import Api, change_status, create_case, create_rule, wait_for_logs, wait_for_row
from tests.fixtures import make_user

expect = pytest.importorskip("playwright.sync_api", reason="the Python package 'playwright' is not installed").expect

TOAST = ".reminder-toast"


def live_toast(session_for, server, status="in_progress"):
    """A signed-in technician on the case list with one reminder toast on screen."""
    tech, colleague = make_user(), make_user()
    api = Api(server, colleague)
    case = create_case(api, tech)
    create_rule(case["id"], colleague)
    s = session_for(tech)
    page = s.new_page("/sag")
    expect(page.locator("#notificationBell")).to_have_attribute("data-live", "1")
    change_status(api, case["id"], status)
    log = wait_for_logs(tech, case["id"])[0]
    toast = page.locator(f'{TOAST}[data-log-id="{log["id"]}"]')
    expect(toast).to_be_visible()
    return s, page, toast, log, case, api, tech


def test_open_marks_the_reminder_clicked_and_goes_to_the_case(session_for, server):
    s, page, toast, log, case, *_ = live_toast(session_for, server)
    toast.get_by_role("button", name="Open").click()
    page.wait_for_url(f"**/sag/{case['id']}")
    row = wait_for_row(log["id"], lambda r: r["clicked_at"] is not None, "clicked_at")
    assert row["seen_at"] is not None
    shot(page, "case_page_after_open")


def test_snooze_one_hour_sets_snoozed_until_and_removes_the_toast(session_for, server):
    s, page, toast, log, *_ = live_toast(session_for, server)
    before = datetime.now(UTC)
    toast.get_by_role("button", name="Snooze 1 h").click()
    expect(toast).to_have_count(0)
    row = wait_for_row(log["id"], lambda r: r["snoozed_until"] is not None, "snoozed_until")
    assert timedelta(minutes=55) < row["snoozed_until"] - before < timedelta(minutes=65)
    expect(page.get_by_text("Snoozed until")).to_be_visible()


def test_snooze_until_tomorrow_0800_uses_the_users_time_zone(session_for, server):
    s, page, toast, log, *_, tech = live_toast(session_for, server)
    toast.get_by_role("button", name="Tomorrow 08:00").click()
    expect(toast).to_have_count(0)
    row = wait_for_row(log["id"], lambda r: r["snoozed_until"] is not None, "snoozed_until")
    local = row["snoozed_until"].astimezone(ZoneInfo(tech["timezone"]))
    today = datetime.now(ZoneInfo(tech["timezone"])).date()
    assert (local.hour, local.minute) == (8, 0)
    assert local.date() == today + timedelta(days=1)


def test_dismiss_marks_the_reminder_dismissed(session_for, server):
    s, page, toast, log, *_ = live_toast(session_for, server)
    toast.get_by_role("button", name="Dismiss", exact=True).click()
    expect(toast).to_have_count(0)
    wait_for_row(log["id"], lambda r: r["dismissed_at"] is not None, "dismissed_at")
    # A dismissed reminder does not come back on the next page.
    page.reload()
    expect(page.locator("#notificationBell")).to_have_attribute("data-live", "1")
    expect(page.locator(TOAST)).to_have_count(0)


def test_every_tab_shows_the_toast_and_dismissing_in_one_removes_it_from_the_others(session_for, server):
    tech, colleague = make_user(), make_user()
    api = Api(server, colleague)
    case = create_case(api, tech)
    create_rule(case["id"], colleague)
    s = session_for(tech)
    tabs = [s.new_page("/sag"), s.new_page("/customers")]
    for tab in tabs:
        expect(tab.locator("#notificationBell")).to_have_attribute("data-live", "1")
    change_status(api, case["id"], "in_progress")
    log = wait_for_logs(tech, case["id"])[0]
    for tab in tabs:
        expect(tab.locator(f'{TOAST}[data-log-id="{log["id"]}"]')).to_be_visible()
    seen = wait_for_row(log["id"], lambda r: r["seen_at"] is not None, "seen_at")["seen_at"]
    tabs[0].locator(TOAST).get_by_role("button", name="Dismiss", exact=True).click()
    expect(tabs[1].locator(TOAST)).to_have_count(0)
    row = wait_for_row(log["id"], lambda r: r["dismissed_at"] is not None, "dismissed_at")
    assert row["seen_at"] == seen  # counted as seen once


def test_after_the_stream_drops_the_browser_reconnects_and_shows_what_it_missed_once(session_for, server):
    s, page, toast, log, case, api, tech = live_toast(session_for, server)
    hub = server.app.state.realtime
    # End every open stream on the server (as a restart does), then send a reminder at once.
    hub._loop.call_soon_threadsafe(hub._broadcast, realtime.CLOSE)
    expect(page.locator("#notificationBell")).to_have_attribute("data-live", "0")
    change_status(api, case["id"], "waiting_customer")
    second = wait_for_logs(tech, case["id"], n=2)[1]
    expect(page.locator(f'{TOAST}[data-log-id="{second["id"]}"]')).to_be_visible()
    expect(page.locator("#notificationBell")).to_have_attribute("data-live", "1")
    # The first toast (replayed after the reconnect, since its id was not acted on) is not doubled.
    expect(page.locator(f'{TOAST}[data-log-id="{log["id"]}"]')).to_have_count(1)
