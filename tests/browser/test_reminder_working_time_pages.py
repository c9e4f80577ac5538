"""The rule editor in a real browser, for reminders in working time: an `sla` rule with two
thresholds held to opening hours, and a deadline offset counted in working hours, each
previewed (times in working time) and saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.core import database
from app.modules.sag.sla import calendars
from tests.browser.helpers import Api, create_case
from tests.fixtures import make_user

expect = pytest.importorskip("playwright.sync_api", reason="the Python package 'playwright' is not installed").expect

DAY = [{"start": "08:00", "end": "16:00"}]


@pytest.fixture(scope="module")
def office(app):
    cal = calendars.create_calendar(calendars.CalendarIn(
        name="Office", weekly_hours={d: DAY for d in ("mon", "tue", "wed", "thu", "fri")}))
    database.execute_insert("INSERT INTO sag_sla_policies (name, response_minutes, resolution_minutes) "
                            "VALUES ('Standard', 60, 480) RETURNING id")
    return cal["id"]


def _open_form(session_for, server, tech, **case_fields):
    case = create_case(Api(server, tech), tech, **case_fields)
    page = session_for(tech).new_page(f"/sag/{case['id']}")
    panel = page.locator("#reminderPanel")
    expect(panel).to_have_attribute("data-ready", "1")
    panel.get_by_role("button", name="Add rule").click()
    return case, panel, panel.locator("[data-rule-form]")


def test_the_rule_editor_creates_an_sla_rule_held_to_opening_hours(office, session_for, server):
    tech = make_user()
    case, panel, form = _open_form(session_for, server, tech)
    form.get_by_label("Name").fill("SLA warnings")
    form.get_by_label("Fires").select_option("sla")
    expect(form.get_by_label("At these shares of it")).to_be_visible()
    expect(form.get_by_label("How long before the deadline")).to_be_hidden()
    form.locator("[name=cfg_target]").select_option("resolution")
    form.get_by_label("At these shares of it").fill("101")
    form.get_by_role("button", name="Save rule").click()
    expect(form.locator('[data-error="trigger_config.thresholds"]')).to_be_visible()
    form.get_by_label("At these shares of it").fill("75, 100")
    form.get_by_label("Deliver only within opening hours").check()
    form.get_by_label("of calendar").select_option("Office")
    form.get_by_role("button", name="Preview").click()
    preview = panel.locator(".reminder-preview")
    expect(preview).to_contain_text("75 % of the resolution target, due")
    expect(preview).to_contain_text("the breach of the resolution target")
    form.get_by_role("button", name="Save rule").click()
    row = panel.locator("table.reminder-rules tr", has_text="SLA warnings")
    expect(row).to_contain_text("75 %, 100 % of the resolution target")
    rule = database.execute_query("SELECT * FROM sag_reminders WHERE sag_id = %s", (case["id"],))[0]
    assert rule["trigger_type"] == "sla" and rule["trigger_config"] == {"target": "resolution", "thresholds": [75, 100]}
    assert rule["deliver_in_opening_hours"] and rule["opening_hours_calendar"] == "Office"


def test_the_rule_editor_counts_a_deadline_offset_in_working_hours(office, session_for, server):
    tech = make_user()
    deadline = (datetime.now(UTC) + timedelta(days=4)).replace(microsecond=0)
    case, panel, form = _open_form(session_for, server, tech, deadline=deadline.isoformat())
    form.get_by_label("Name").fill("Four working hours before")
    form.get_by_label("Fires").select_option("deadline")
    form.get_by_label("How long before the deadline").fill("4")
    form.get_by_label("Unit").select_option("hours")
    form.locator("[name=cfg_calendar]").select_option("default")
    form.get_by_role("button", name="Preview").click()
    expect(panel.locator(".reminder-preview")).to_contain_text(
        "(4 working hours before the deadline (default calendar))")
    form.get_by_role("button", name="Save rule").click()
    row = panel.locator("table.reminder-rules tr", has_text="Four working hours before")
    expect(row).to_contain_text("4 working hour(s) before the deadline (default calendar)")
    rule = database.execute_query("SELECT * FROM sag_reminders WHERE sag_id = %s", (case["id"],))[0]
    assert rule["trigger_config"] == {"offset_minutes": 240, "calendar": "default"}
