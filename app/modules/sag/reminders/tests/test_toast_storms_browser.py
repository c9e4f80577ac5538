"""Toasts in a real browser (Playwright, Chromium) when many reminders come at once: one summary
toast for a backlog on page load, one toast for a grouped reminder, and a toast stack that
leaves the action column of a table uncovered on a 1366-pixel-wide screen."""

from __future__ import annotations

import pytest

from app.core import database
from tests.browser.conftest import browser, server, session_for, shot  # noqa: F401 - fixtures used below
from tests.browser.helpers import Api, change_status, create_case, create_rule, wait_for_logs
from tests.fixtures import make_user

expect = pytest.importorskip("playwright.sync_api").expect

TOAST = ".reminder-toast"
LAPTOP = {"width": 1366, "height": 768}


def _reminders_for(live, tech: dict, n: int) -> list[dict]:
    """`n` separate reminders (one case rule each, so nothing is grouped) for `tech`, unseen."""
    colleague = make_user()
    api = Api(live, colleague)
    cases = []
    for i in range(n):
        case = create_case(api, tech, f"Backlog case {i}")
        create_rule(case["id"], colleague)
        change_status(api, case["id"], "in_progress")
        cases.append(case)
    wait_for_logs(tech, None, n)
    return cases


def test_a_backlog_on_page_load_shows_one_summary_toast_that_expands(session_for, server):  # noqa: F811
    tech = make_user()
    _reminders_for(server, tech, 3)
    s = session_for(tech)
    page = s.new_page("/sag")
    summary = page.locator("#reminderSummary")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("data-count", "3")
    expect(summary.locator(".reminder-summary-text")).to_have_text("3 unread reminders while you were away")
    expect(page.locator(TOAST)).to_have_count(0)
    expect(summary.get_by_role("link", name="Open list")).to_have_attribute("href", "/sag/reminders?filter=unread")
    shot(page, "toast_backlog_summary")
    summary.get_by_role("button", name="Show them here").click()
    expect(page.locator(TOAST)).to_have_count(3)
    expect(page.locator("#reminderSummary")).to_have_count(0)
    assert not s.errors


def test_a_single_missed_reminder_still_shows_as_itself(session_for, server):  # noqa: F811
    tech = make_user()
    _reminders_for(server, tech, 1)
    page = session_for(tech).new_page("/sag")
    expect(page.locator(TOAST)).to_have_count(1)
    expect(page.locator("#reminderSummary")).to_have_count(0)


def test_a_rule_firing_for_many_cases_pops_one_toast_that_opens_the_list(session_for, server):  # noqa: F811
    tech, boss = make_user(), make_user("admin")
    api = Api(server, boss)
    cases = [create_case(api, tech, f"Quiet printer {i}") for i in range(4)]
    create_rule(None, boss, name="Quiet for 5 days", recipients={"users": [tech["id"]]},
                trigger_config={"from": "any", "to": "on_hold"}, title_template="#{{ case.number }} is on hold")
    s = session_for(tech)
    page = s.new_page("/sag")
    expect(page.locator("#notificationBell")).to_have_attribute("data-live", "1")
    # One transaction puts the four on hold, as a bulk edit would.
    database.execute_update("UPDATE sag_sager SET status = 'on_hold' WHERE id = ANY(%s)",
                            ([c["id"] for c in cases],))
    toast = page.locator(TOAST)
    expect(toast).to_have_count(1)
    expect(toast.locator(".reminder-title")).to_have_text("Quiet for 5 days: 4 cases")
    expect(toast).to_have_attribute("data-group-size", "4")
    for c in cases:
        expect(toast.locator(".reminder-message")).to_contain_text(f"#{c['id']} Quiet printer")
    shot(page, "toast_grouped")
    toast.get_by_role("button", name="Open list").click()
    page.wait_for_url("**/sag/reminders?group=*")
    expect(page.locator("#groupNotice")).to_be_visible()
    listed = page.locator("[data-log-id]")
    expect(listed).to_have_count(4)
    for i in range(4):
        expect(listed.filter(has_text=f"Quiet printer {i}")).to_have_count(1)
    assert not s.errors


def _overlaps(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.mark.parametrize("path", ["/admin/users", "/sag"])
def test_toasts_leave_the_tables_right_hand_action_column_free_at_1366_pixels(session_for, server, path):  # noqa: F811
    admin, colleague = make_user("admin"), make_user()
    api = Api(server, colleague)
    cases = [create_case(api, admin, f"Toast over the table {i}") for i in range(3)]
    for case in cases:
        create_rule(case["id"], colleague, message_template="A longer message so that the toast is as tall as "
                                                            "a real one usually is, over two lines or three.")
    s = session_for(admin)
    page = s.new_page()
    page.set_viewport_size(LAPTOP)
    page.goto(path)
    expect(page.locator("#notificationBell")).to_have_attribute("data-live", "1")
    for case in cases:  # three live toasts: the stack at its tallest
        change_status(api, case["id"], "in_progress")
    expect(page.locator(TOAST)).to_have_count(3)
    page.wait_for_function("!document.querySelector('.toast.showing')")
    shot(page, f"toasts_1366{path.replace('/', '_')}")
    toasts = [t.bounding_box() for t in page.locator(f"{TOAST}, #reminderMore").all()]
    last_cells = [c.bounding_box() for c in page.locator("table tr > :last-child").all()]
    last_cells = [c for c in last_cells if c and c["width"] > 0]
    assert toasts and last_cells
    covered = [(t, c) for t in toasts for c in last_cells if _overlaps(t, c)]
    assert not covered, f"toasts cover the action column: {covered[:2]}"
    assert all(t["x"] + t["width"] <= LAPTOP["width"] for t in toasts)
