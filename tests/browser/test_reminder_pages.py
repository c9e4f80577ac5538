"""Reminder pages in a real browser: the case page's rule editor, my reminders, rules and queue (admin)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import database
from tests.browser.conftest import shot
from tests.browser.helpers import Api, change_status, create_case, create_rule, wait_for_logs, wait_for_row
from tests.fixtures import make_user

expect = pytest.importorskip("playwright.sync_api", reason="the Python package 'playwright' is not installed").expect


def test_the_rule_editor_creates_a_deadline_rule_and_shows_its_next_run(session_for, server):
    tech = make_user()
    api = Api(server, tech)
    deadline = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    case = create_case(api, tech, deadline=deadline.isoformat())
    s = session_for(tech)
    page = s.new_page(f"/sag/{case['id']}")
    panel = page.locator("#reminderPanel")
    expect(panel).to_have_attribute("data-ready", "1")
    expect(panel.get_by_text("No reminder rules for this case yet.")).to_be_visible()
    panel.get_by_role("button", name="Add rule").click()
    form = panel.locator("[data-rule-form]")
    form.get_by_label("Name").fill("Day before the deadline")
    form.get_by_label("Fires").select_option("deadline")
    expect(form.get_by_label("How long before the deadline")).to_be_visible()
    expect(form.get_by_label("Cron (min hour day month weekday)")).to_be_hidden()
    form.get_by_label("How long before the deadline").fill("1")
    form.get_by_label("Unit").select_option("days")
    form.get_by_role("button", name="Preview").click()
    preview = panel.locator(".reminder-preview")
    expect(preview).to_contain_text(f"#{case['id']}")
    expect(preview).to_contain_text(tech["full_name"])
    shot(page, "rule_editor_preview")
    form.get_by_role("button", name="Save rule").click()
    row = panel.locator("table.reminder-rules tr", has_text="Day before the deadline")
    expect(row).to_be_visible()
    expect(row).to_contain_text("1 day(s) before the deadline")
    expected = (deadline - timedelta(days=1)).astimezone(ZoneInfo(tech["timezone"]))
    expect(row.locator(".next-run")).to_contain_text(f"{expected.day} {expected.strftime('%b')} {expected.year}")
    expect(row.locator(".next-run")).to_contain_text(expected.strftime("%H:%M"))
    shot(page, "case_page_rules")
    rule = database.execute_query("SELECT * FROM sag_reminders WHERE sag_id = %s", (case["id"],))[0]
    assert rule["trigger_type"] == "deadline" and rule["trigger_config"] == {"offset_minutes": 1440}


def test_the_rule_editor_shows_validation_errors_inline(session_for, server):
    tech = make_user()
    case = create_case(Api(server, tech), tech)
    s = session_for(tech)
    page = s.new_page(f"/sag/{case['id']}")
    panel = page.locator("#reminderPanel")
    expect(panel).to_have_attribute("data-ready", "1")
    panel.get_by_role("button", name="Add rule").click()
    form = panel.locator("[data-rule-form]")
    form.get_by_label("Name").fill("Every weekday")
    form.get_by_label("Fires").select_option("recurring")
    form.get_by_label("Cron (min hour day month weekday)").fill("every morning")
    form.get_by_role("button", name="Save rule").click()
    expect(form.locator('[data-error="trigger_config.cron"]')).to_contain_text("cron")
    expect(form.get_by_label("Cron (min hour day month weekday)")).to_have_class(re.compile(r"\bis-invalid\b"))
    shot(page, "rule_editor_errors")
    assert database.execute_query("SELECT count(*) AS n FROM sag_reminders WHERE sag_id = %s",
                                  (case["id"],))[0]["n"] == 0
    form.get_by_label("Cron (min hour day month weekday)").fill("0 8 * * 1-5")
    form.get_by_role("button", name="Save rule").click()
    expect(panel.locator("table.reminder-rules tr", has_text="Every weekday")).to_be_visible()


def test_a_rule_can_be_deactivated_edited_and_deleted(session_for, server):
    tech = make_user()
    case = create_case(Api(server, tech), tech)
    rule = create_rule(case["id"], tech, name="Tell me")
    s = session_for(tech)
    page = s.new_page(f"/sag/{case['id']}")
    row = page.locator("table.reminder-rules tr", has_text="Tell me")
    row.get_by_role("button", name="Deactivate").click()
    expect(row).to_contain_text("inactive")
    assert database.execute_query("SELECT active FROM sag_reminders WHERE id = %s", (rule["id"],))[0]["active"] is False
    row.get_by_role("button", name="Edit").click()
    form = page.locator("#reminderPanel [data-rule-form]")
    expect(form.get_by_label("Name")).to_have_value("Tell me")
    form.get_by_label("Name").fill("Tell me twice")
    form.get_by_role("button", name="Save rule").click()
    row = page.locator("table.reminder-rules tr", has_text="Tell me twice")
    expect(row).to_be_visible()
    s.confirm = True
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No reminder rules for this case yet.")).to_be_visible()
    assert not database.execute_query("SELECT 1 FROM sag_reminders WHERE id = %s", (rule["id"],))


def test_my_reminders_filters_and_bulk_mark_read(session_for, server):
    tech, colleague = make_user(), make_user()
    api = Api(server, colleague)
    cases = [create_case(api, tech) for _ in range(3)]
    for c in cases:
        create_rule(c["id"], colleague)
        change_status(api, c["id"], "in_progress")
    logs = [wait_for_logs(tech, c["id"])[0] for c in cases]
    s = session_for(tech)
    page = s.new_page("/sag/reminders?filter=unread")
    items = page.locator("#reminderList [data-log-id]")
    expect(items).to_have_count(3)
    # Mark one read from the list (the toasts on this page would too, as they show).
    page.get_by_label(f"Select reminder {logs[0]['id']}").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Mark read").first.click()
    wait_for_row(logs[0]["id"], lambda r: r["seen_at"] is not None, "seen_at")
    page.goto(f"/sag/reminders?filter=all&case_id={cases[0]['id']}")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text(f"#{cases[0]['id']}")
    shot(page, "my_reminders")
    page.goto("/sag/reminders?filter=all")
    page.get_by_label("Select all").check()
    page.get_by_role("button", name="Acknowledge").first.click()
    for log in logs:
        wait_for_row(log["id"], lambda r: r["acknowledged_at"] is not None, "acknowledged_at")
    expect(page.locator("#reminderList").get_by_text("acknowledged").first).to_be_visible()


def test_my_reminders_lists_what_the_rate_limit_held_back(session_for, server):
    tech, colleague = make_user(), make_user()
    database.execute_update("UPDATE user_notification_preferences SET max_per_hour = 1 WHERE user_id = %s",
                            (tech["id"],))
    api = Api(server, colleague)
    cases = [create_case(api, tech) for _ in range(3)]
    for c in cases:
        create_rule(c["id"], colleague)
        change_status(api, c["id"], "in_progress")
    wait_for_logs(tech, None, n=2, status="rate_limited")
    s = session_for(tech)
    page = s.new_page("/sag/reminders?filter=held_back")
    items = page.locator("#reminderList [data-log-id]")
    expect(items).to_have_count(2)
    expect(items.first.locator('[data-status="rate_limited"]')).to_have_text("Held back")
    shot(page, "my_reminders_held_back")


def test_snooze_and_mark_read_from_my_reminders(session_for, server):
    tech, colleague = make_user(), make_user()
    api = Api(server, colleague)
    case = create_case(api, tech)
    create_rule(case["id"], colleague)
    change_status(api, case["id"], "in_progress")
    log = wait_for_logs(tech, case["id"])[0]
    s = session_for(tech)
    page = s.new_page(f"/sag/reminders?case_id={case['id']}")
    item = page.locator(f'#reminderList [data-log-id="{log["id"]}"]')
    item.get_by_role("button", name="Snooze").click()
    with page.expect_navigation():
        item.get_by_role("button", name="1 hour").click()
    wait_for_row(log["id"], lambda r: r["snoozed_until"] is not None, "snoozed_until")
    expect(page.locator(f'#reminderList [data-log-id="{log["id"]}"]')).to_contain_text("snoozed until")
    page.goto("/sag/reminders?filter=snoozed")
    expect(page.locator(f'#reminderList [data-log-id="{log["id"]}"]')).to_contain_text("snoozed until")


def test_admin_sees_the_queue_and_retries_a_failed_event(session_for, server):
    admin = make_user("admin")
    tech = make_user()
    case = create_case(Api(server, admin), tech)
    event_id = database.execute_query(
        "INSERT INTO sag_reminder_queue (sag_id, kind, trigger_type, status, attempts, last_error, scheduled_for, "
        "processed_at) VALUES (%s, 'rule', 'status_change', 'failed', 5, 'SMTP: connection refused', now(), now()) "
        "RETURNING id", (case["id"],))[0]["id"]
    s = session_for(admin)
    page = s.new_page("/sag/reminders/queue")
    expect(page.locator('[data-count="failed"]')).not_to_have_text("0")
    row = page.locator(f'#queueFailures tr[data-event-id="{event_id}"]')
    expect(row).to_contain_text("SMTP: connection refused")
    expect(page.locator('[data-field="throughput"]')).to_contain_text("events processed")
    shot(page, "queue")
    row.get_by_role("button", name="Retry").click()
    expect(page.locator(f'#queueFailures tr[data-event-id="{event_id}"]')).to_have_count(0)
    status = database.execute_query("SELECT status FROM sag_reminder_queue WHERE id = %s", (event_id,))[0]["status"]
    assert status in ("pending", "processing", "sent", "skipped", "failed")
    assert status != "failed" or database.execute_query(
        "SELECT attempts FROM sag_reminder_queue WHERE id = %s", (event_id,))[0]["attempts"] > 5


def test_admin_manages_global_rules_and_users_cannot(session_for, server):
    admin, user = make_user("admin"), make_user()
    s = session_for(admin)
    page = s.new_page("/sag/reminders/rules")
    expect(page.locator("#globalRules")).to_have_attribute("data-ready", "1")
    page.get_by_role("button", name="Add global rule").click()
    form = page.locator("#globalRules [data-rule-form]")
    form.get_by_label("Name").fill("Everything resolved")
    form.get_by_label("Fires").select_option("status_change")
    form.locator('[name="cfg_to"]').select_option("resolved")
    form.get_by_role("button", name="Save rule").click()
    expect(page.locator("table.reminder-rules tr", has_text="Everything resolved")).to_contain_text("→ Resolved")
    shot(page, "global_rules")
    other = session_for(user).new_page("/sag/reminders/rules")
    expect(other.get_by_text("Only administrators")).to_be_visible()


def test_the_rule_editor_hides_role_and_external_recipients_from_non_admins(session_for, server):
    admin, tech = make_user("admin"), make_user()
    case = create_case(Api(server, tech), tech)
    create_rule(None, admin, name="Board is told", recipients={"emails": ["board@example.test"]},
                channels=["email"])
    page = session_for(tech).new_page(f"/sag/{case['id']}")
    panel = page.locator("#reminderPanel")
    expect(panel).to_have_attribute("data-ready", "1")
    inherited = panel.locator("table.reminder-rules tr", has_text="Board is told").first
    expect(inherited).to_contain_text("set by an administrator")
    expect(panel).not_to_contain_text("board@example.test")
    panel.get_by_role("button", name="Add rule").click()
    form = panel.locator("[data-rule-form]")
    expect(form.get_by_label("All admins")).to_be_hidden()
    expect(form.get_by_label("External e-mail addresses (e-mail only)")).to_be_hidden()
    expect(form.get_by_label("to role")).to_be_hidden()
    form.get_by_label("Name").fill("Tell me too")
    form.get_by_role("button", name="Save rule").click()
    expect(panel.locator("table.reminder-rules tr", has_text="Tell me too")).to_be_visible()
    admin_page = session_for(admin).new_page(f"/sag/{case['id']}")
    admin_panel = admin_page.locator("#reminderPanel")
    expect(admin_panel).to_have_attribute("data-ready", "1")
    admin_panel.get_by_role("button", name="Add rule").click()
    expect(admin_panel.locator("[data-rule-form]").get_by_label("All admins")).to_be_visible()
