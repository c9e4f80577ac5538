"""@mentions in a real browser: a note written on the case page in one user's browser pops up as a
toast on the page the mentioned user has open (live server, real worker, Chromium)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import browser, session_for, shot  # noqa: F401 - fixtures used below
from tests.browser.helpers import Api, create_case, wait_for_logs
from tests.browser.live_server import LiveServer
from tests.fixtures import make_user

expect = pytest.importorskip("playwright.sync_api").expect

TOAST = ".reminder-toast"
XSS = '<img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def server(app):
    s = LiveServer(app, with_worker=True).start()
    yield s
    s.stop()


def test_a_mention_written_in_one_browser_pops_up_for_the_mentioned_user(session_for, server):  # noqa: F811
    writer = make_user(full_name="Sofie Hansen")
    anna = make_user(full_name="Anna Jensen")
    case = create_case(Api(server, writer), writer, title="Toner is empty")
    mentioned = session_for(anna)
    page = mentioned.new_page("/sag")
    expect(page.locator("#notificationBell")).to_have_attribute("data-live", "1")

    author = session_for(writer)
    case_page = author.new_page(f"/sag/{case['id']}")
    case_page.locator("#noteBody").fill(f'@"Anna Jensen" can you order toner? {XSS}')
    case_page.get_by_role("button", name="Add note").click()

    toast = page.locator(TOAST)
    expect(toast).to_have_count(1)
    expect(toast.locator(".reminder-title")).to_have_text(
        f"Sofie Hansen mentioned you on #{case['id']}: Toner is empty")
    expect(toast.locator(".reminder-message")).to_have_text(f'@"Anna Jensen" can you order toner? {XSS}')
    expect(toast.locator("img")).to_have_count(0)  # the payload is text, not markup
    expect(toast.get_by_role("button", name="Snooze 1 h")).to_have_count(0)  # a mention has no rule to snooze
    shot(page, "mention_toast")
    assert [r["user_id"] for r in wait_for_logs(anna, case["id"])] == [anna["id"]]
    assert mentioned.dialogs == [] and not mentioned.errors and not author.errors
