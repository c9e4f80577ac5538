"""Desktop notifications in a real browser (Playwright, Chromium): the opt-in on the preferences
page asks for the browser's permission (granted here by the test context) and remembers it;
while the tab is hidden a reminder raises an OS notification through the Notification API,
whose click brings the tab forward and opens the case; the toast is there on return."""

from __future__ import annotations

import pytest

from tests.browser.conftest import browser, server, session_for  # noqa: F401 - fixtures used below
from tests.browser.helpers import Api, change_status, create_case, create_rule, wait_for_logs, wait_for_row
from tests.fixtures import make_user

expect = pytest.importorskip("playwright.sync_api").expect

# Records what the page hands to the Notification constructor, and lets the test say whether the
# tab is hidden (a headless tab is always "visible").
OBSERVE = """
(() => {
  window.__notes = [];
  window.__hidden = false;
  Object.defineProperty(document, "hidden", { configurable: true, get: () => window.__hidden });
  Object.defineProperty(document, "visibilityState", {
    configurable: true, get: () => (window.__hidden ? "hidden" : "visible") });
  const Real = window.Notification;
  if (!Real) return;
  function Observed(title, options) {
    const n = new Real(title, options);
    window.__notes.push({ title, body: (options || {}).body, tag: (options || {}).tag, n });
    return n;
  }
  Observed.requestPermission = (...a) => Real.requestPermission(...a);
  Object.defineProperty(Observed, "permission", { get: () => Real.permission });
  Observed.prototype = Real.prototype;
  window.Notification = Observed;
})();
"""


def test_opt_in_then_a_reminder_in_a_hidden_tab_raises_a_desktop_notification(session_for, server):  # noqa: F811
    tech, colleague = make_user(), make_user()
    api = Api(server, colleague)
    case = create_case(api, tech, "Server room too warm")
    create_rule(case["id"], colleague)
    s = session_for(tech)
    s.context.grant_permissions(["notifications"], origin=server.url)
    s.context.add_init_script(OBSERVE)

    prefs = s.new_page("/me/notifications")
    status = prefs.locator("#desktopStatus")
    expect(status).to_have_attribute("data-state", "off")
    prefs.get_by_role("button", name="Turn on desktop notifications").click()
    expect(status).to_have_attribute("data-state", "on")
    assert prefs.evaluate("localStorage.getItem('bmc.notifications.desktop')") == "on"
    prefs.close()

    page = s.new_page("/sag")
    expect(page.locator("#notificationBell")).to_have_attribute("data-live", "1")
    page.evaluate("window.__hidden = true")
    change_status(api, case["id"], "in_progress")
    page.wait_for_function("window.__notes.length === 1")
    note = page.evaluate("({title: __notes[0].title, body: __notes[0].body, tag: __notes[0].tag})")
    log = wait_for_logs(tech, case["id"])[0]
    assert note == {"title": "Case moved to in_progress",
                    "body": f"#{case['id']} · Server room too warm\nSomeone changed the status.",
                    "tag": f"bmc-reminder-{log['id']}"}
    # Back on the tab: the toast is there too.
    page.evaluate("window.__hidden = false")
    expect(page.locator(f'.reminder-toast[data-log-id="{log["id"]}"]')).to_be_visible()

    # A visible tab gets the toast only.
    change_status(api, case["id"], "waiting_customer")
    expect(page.locator(".reminder-toast")).to_have_count(2)
    assert page.evaluate("window.__notes.length") == 1

    # Clicking the notification focuses the tab and opens the case (recorded as clicked).
    page.evaluate("__notes[0].n.onclick()")
    page.wait_for_url(f"**/sag/{case['id']}")
    wait_for_row(log["id"], lambda r: r["clicked_at"] is not None, "clicked_at")
    assert not s.errors


def test_without_the_opt_in_a_hidden_tab_raises_no_desktop_notification(session_for, server):  # noqa: F811
    tech, colleague = make_user(), make_user()
    api = Api(server, colleague)
    case = create_case(api, tech)
    create_rule(case["id"], colleague)
    s = session_for(tech)
    s.context.grant_permissions(["notifications"], origin=server.url)
    s.context.add_init_script(OBSERVE)
    page = s.new_page("/sag")
    expect(page.locator("#notificationBell")).to_have_attribute("data-live", "1")
    page.evaluate("window.__hidden = true")
    change_status(api, case["id"], "in_progress")
    expect(page.locator(".reminder-toast")).to_have_count(1)
    assert page.evaluate("window.__notes.length") == 0


def test_the_opt_in_can_be_turned_off_again_in_this_browser(session_for, server):  # noqa: F811
    s = session_for(make_user())
    s.context.grant_permissions(["notifications"], origin=server.url)
    page = s.new_page("/me/notifications")
    page.get_by_role("button", name="Turn on desktop notifications").click()
    expect(page.locator("#desktopStatus")).to_have_attribute("data-state", "on")
    page.get_by_role("button", name="Turn off in this browser").click()
    expect(page.locator("#desktopStatus")).to_have_attribute("data-state", "off")
    page.reload()
    expect(page.locator("#desktopStatus")).to_have_text("Off in this browser.")
