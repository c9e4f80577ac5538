"""The case page's SLA clocks in a real browser: the working time left counts down second by
second, a clock turns breached on time without asking the server, and a change of the case
(put on hold) reaches the page when the clocks refresh from the server."""

from __future__ import annotations

import re

import pytest

from app.core import database
from app.modules.sag.sla import businesstime, calendars
from tests.browser.conftest import browser, session_for, shot  # noqa: F401 - fixtures used below
from tests.browser.live_server import LiveServer
from tests.fixtures import make_user

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture(scope="module")
def server(app):
    s = LiveServer(app).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def policy(app):
    calendars.create_calendar(calendars.CalendarIn(name="Always", country=None, weekly_hours={
        d: [{"start": "00:00", "end": "24:00"}] for d in businesstime.WEEKDAYS}))
    pid = database.execute_insert("INSERT INTO sag_sla_policies (name, response_minutes, resolution_minutes) "
                                  "VALUES ('Standard', 60, 240) RETURNING id")
    database.execute_update("INSERT INTO sag_sla_pause_statuses (policy_id, status) VALUES (%s, 'on_hold')", (pid,))
    return pid


def _case(age_s: float) -> int:
    with database.transaction():
        case_id = database.execute_insert("INSERT INTO sag_sager (title) VALUES ('Printer offline') RETURNING id")
        database.execute_update("UPDATE sag_sager SET created_at = now() - make_interval(secs => %s) WHERE id = %s",
                                (age_s, case_id))
        database.execute_update("UPDATE sag_status_history SET changed_at = now() - make_interval(secs => %s) "
                                "WHERE sag_id = %s", (age_s, case_id))
        database.execute_query("SELECT sag_sla_refresh(%s)", (case_id,))
    return case_id


def test_clocks_tick_and_follow_a_change_of_the_case(session_for, policy):  # noqa: F811
    case_id = _case(age_s=10 * 60)
    s = session_for(make_user("user"))
    page = s.new_page(f"/sag/{case_id}")
    response = page.locator('[data-sla-clock="response"]')
    resolution = page.locator('[data-sla-clock="resolution"]')
    expect(response).to_have_attribute("data-state", "ok")
    expect(response.locator("[data-sla-text]")).to_contain_text("working time left")
    first = response.locator("[data-sla-text]").inner_text()
    expect(response.locator("[data-sla-text]")).not_to_have_text(first)  # the seconds count down
    assert first.startswith("49 m") or first.startswith("50 m"), first
    shot(page, "case_sla_clocks")

    database.execute_update("UPDATE sag_sager SET status = 'on_hold' WHERE id = %s", (case_id,))
    page.evaluate("window.hubSlaClocks.refresh()")
    expect(resolution).to_have_attribute("data-state", "paused")
    expect(resolution.locator("[data-sla-text]")).to_contain_text("paused, 3 h")
    expect(response).to_have_attribute("data-state", "met")
    assert not s.errors, s.errors


def test_a_clock_turns_breached_on_time_in_the_browser(session_for, policy):  # noqa: F811
    s = session_for(make_user("user"))
    case_id = _case(age_s=60 * 60 - 12)  # the response is due in twelve seconds
    page = s.new_page(f"/sag/{case_id}")
    response = page.locator('[data-sla-clock="response"]')
    expect(response).to_have_attribute("data-state", "warning")
    expect(response).to_have_attribute("data-state", "breached", timeout=30_000)
    expect(response.locator("[data-sla-text]")).to_contain_text("breached 0 m ago")
    assert not s.errors, s.errors


def test_clocks_count_down_in_danish(session_for, policy):  # noqa: F811
    case_id = _case(age_s=10 * 60)
    user = make_user("user", language="da")
    page = session_for(user).new_page(f"/sag/{case_id}")
    response = page.locator('[data-sla-clock="response"]')
    text = response.locator("[data-sla-text]")
    expect(text).to_contain_text("arbejdstid tilbage")
    first = text.inner_text()
    expect(text).not_to_have_text(first)  # the script rewrites it every second, in Danish
    assert "arbejdstid tilbage" in text.inner_text() and " min " in text.inner_text()
    expect(response.locator("[data-sla-badge]")).to_have_text("i rute")
    # The browser's Danish date, e.g. "1. dec. 2026 20.41".
    expect(response.locator("[data-sla-due]")).to_have_text(re.compile(r"^\d{1,2}\. [a-zæøå]+\.? \d{4}"))
    shot(page, "case_sla_clocks_da")
