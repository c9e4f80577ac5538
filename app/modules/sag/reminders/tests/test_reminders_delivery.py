"""Recipients, preferences, quiet hours, template errors, snooze, acknowledge, re-remind and escalation."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from app.core import database
from app.modules.sag.reminders import mine as reminders_mine
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    db_now,
    events,
    logs,
    make_case,
    make_rule,
    prefs,
    run_worker,
    set_status,
)
from tests.fixtures import make_user


def test_recipients_are_resolved_when_processed_so_reassignment_reminds_the_new_assignee(app):
    clear_queue()
    old, new = make_user(), make_user()
    case = make_case(assigned_to=old["id"])
    rule = make_rule(sag_id=case["id"], trigger_config={"from": "any", "to": "on_hold"})
    set_status(case["id"], "on_hold")
    database.execute_update("UPDATE sag_sager SET assigned_to = %s WHERE id = %s", (new["id"], case["id"]))
    run_worker()
    assert [r["user_id"] for r in logs(rule_id=rule["id"])] == [new["id"]]


def test_recipients_are_deduplicated_per_user_and_inactive_users_skipped(app):
    clear_queue()
    admin = make_user("admin")
    gone = make_user(active=False)
    case = make_case(assigned_to=admin["id"], created_by=admin["id"])
    rule = make_rule(sag_id=case["id"], recipients={"assignee": True, "creator": True,
                                                    "users": [admin["id"], gone["id"]], "roles": ["admin"]})
    set_status(case["id"], "in_progress")
    run_worker()
    users = [r["user_id"] for r in logs(rule_id=rule["id"])]
    assert users.count(admin["id"]) == 1 and gone["id"] not in users
    admins = {r["id"] for r in database.execute_query("SELECT id FROM users WHERE role = 'admin' AND active")}
    assert set(users) == admins


def test_external_addresses_get_email_only(app, tmp_path):
    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"])
    rule = make_rule(sag_id=case["id"], channels=["in_app", "email"],
                     recipients={"assignee": True, "emails": ["Partner@Example.TEST", "partner@example.test"]})
    set_status(case["id"], "in_progress")
    run_worker()
    rows = logs(rule_id=rule["id"])
    external = [r for r in rows if r["user_id"] is None]
    assert [(r["channel"], r["email"], r["status"]) for r in external] == [("email", "partner@example.test", "sent")]
    assert sorted(r["channel"] for r in rows if r["user_id"] == u["id"]) == ["email", "in_app"]


def test_channel_switched_off_is_suppressed_and_trigger_override_wins(app):
    clear_queue()
    u = make_user()
    prefs(u["id"], email_enabled=False)
    database.execute_update(
        "UPDATE user_notification_preferences SET trigger_overrides = %s::jsonb WHERE user_id = %s",
        ('{"status_change": {"in_app": false}, "deadline": {"email": true}}', u["id"]))
    case = make_case(assigned_to=u["id"], deadline=db_now() + timedelta(minutes=30))
    status_rule = make_rule(sag_id=case["id"], channels=["in_app", "email"])
    deadline_rule = make_rule(sag_id=case["id"], channels=["in_app", "email"], trigger_type="deadline",
                              trigger_config={"offset_hours": 1})
    set_status(case["id"], "in_progress")
    run_worker()
    by_rule = {(r["rule_id"], r["channel"]): r["status"] for r in logs(user_id=u["id"])}
    assert by_rule[(status_rule["id"], "in_app")] == "suppressed"
    assert by_rule[(status_rule["id"], "email")] == "suppressed"
    assert by_rule[(deadline_rule["id"], "in_app")] == "sent"
    assert by_rule[(deadline_rule["id"], "email")] == "sent"


def test_quiet_hours_defer_email_in_users_zone_keep_in_app_and_send_one_digest(app):
    clear_queue()
    now = db_now()
    # quiet hours that contain "now" in the user's zone, ending two hours from now
    zone = "America/New_York"
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo(zone))
    start = (local - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (local + timedelta(hours=2)).time().replace(second=0, microsecond=0)
    u = make_user(timezone=zone)
    prefs(u["id"], quiet_hours_start=start, quiet_hours_end=end)
    case = make_case(assigned_to=u["id"])
    rule = make_rule(sag_id=case["id"], channels=["in_app", "email"])
    for status in ("in_progress", "on_hold", "waiting_customer"):
        set_status(case["id"], status)
    run_worker()
    rows = logs(rule_id=rule["id"])
    assert sorted({(r["channel"], r["status"]) for r in rows}) == [("email", "deferred"), ("in_app", "sent")]
    deferred = [r for r in rows if r["status"] == "deferred"]
    expected_end = datetime.combine((local + timedelta(hours=2)).date(), end, tzinfo=ZoneInfo(zone))
    assert all(abs((r["deliver_after"] - expected_end).total_seconds()) < 1 for r in deferred)
    digests = events(kind="digest", target_user_id=u["id"])
    assert len(digests) == 1
    run_worker(offset=timedelta(hours=2, minutes=1))
    assert {r["status"] for r in logs(rule_id=rule["id"], channel="email")} == {"sent"}
    assert events(kind="digest", target_user_id=u["id"])[0]["status"] == "sent"


def test_quiet_until_across_dst_and_midnight(app):
    q = "SELECT sag_quiet_until(%s, %s, %s, %s) AS t"

    def until(tz, start, end, at):
        return database.execute_query(q, (tz, start, end, at))[0]["t"]

    # 22:00-07:00 Copenhagen on the night summer time starts (29 March 2026, clocks 02:00 -> 03:00)
    at = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 00:30 local (CET)
    assert until("Europe/Copenhagen", time(22), time(7), at) == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    # the night winter time starts (25 October 2026): 07:00 CET is 06:00 UTC
    at = datetime(2026, 10, 24, 21, 0, tzinfo=UTC)  # 23:00 local (CEST)
    assert until("Europe/Copenhagen", time(22), time(7), at) == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
    # outside quiet hours
    at = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    assert until("Europe/Copenhagen", time(22), time(7), at) is None
    # same-day period in another zone
    at = datetime(2026, 7, 1, 13, 30, tzinfo=UTC)  # 09:30 New York (EDT)
    assert until("America/New_York", time(9), time(12), at) == datetime(2026, 7, 1, 16, 0, tzinfo=UTC)


def test_template_error_is_recorded_on_the_event_and_the_worker_keeps_going(app):
    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"])
    bad = make_rule(sag_id=case["id"], title_template="{{ case.title }} {{ no_such_variable }}")
    good = make_rule(sag_id=case["id"])
    set_status(case["id"], "in_progress")
    run_worker()
    [ev] = events(reminder_id=bad["id"])
    assert ev["status"] == "failed" and "template error" in ev["last_error"]
    assert len(logs(rule_id=good["id"])) == 1


def test_rule_templates_render_case_fields_sandboxed(app):
    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"], title="Printer <b>down</b>", priority="high")
    rule = make_rule(sag_id=case["id"], title_template="#{{ case.number }} {{ case.title }} is {{ new_status }}",
                     message_template="{{ case.priority | upper }}")
    escape = make_rule(sag_id=case["id"], title_template="{{ case.__class__.__mro__[1].__subclasses__() }}")
    set_status(case["id"], "on_hold")
    run_worker()
    [row] = logs(rule_id=rule["id"])
    assert row["title"] == f"#{case['id']} Printer <b>down</b> is on_hold"  # plain text; escaped where shown
    assert row["message"] == "HIGH"
    [ev] = events(reminder_id=escape["id"])
    assert ev["status"] == "failed" and "template error" in ev["last_error"]
    assert logs(rule_id=escape["id"]) == []


def test_snooze_brings_the_reminder_back_once_for_that_user_only(app):
    clear_queue()
    a, b = make_user(), make_user()
    case = make_case(assigned_to=a["id"])
    rule = make_rule(sag_id=case["id"], recipients={"assignee": True, "users": [b["id"]]})
    set_status(case["id"], "in_progress")
    run_worker()
    [log_a] = logs(rule_id=rule["id"], user_id=a["id"])
    until = db_now() + timedelta(hours=1)
    reminders_mine.snooze(a["id"], [log_a["id"]], until)
    reminders_mine.snooze(a["id"], [log_a["id"]], until)  # snoozing again moves, never duplicates
    assert len(events(kind="snooze", target_user_id=a["id"], status="pending")) == 1
    run_worker(offset=timedelta(minutes=59))
    run_worker(offset=timedelta(hours=1, seconds=5))
    assert len(logs(rule_id=rule["id"], user_id=a["id"])) == 2
    assert len(logs(rule_id=rule["id"], user_id=b["id"])) == 1


def test_repeat_until_acknowledged_then_escalate_to_role(app):
    clear_queue()
    tech = make_user()
    boss = make_user("admin")
    case = make_case(assigned_to=tech["id"])
    rule = make_rule(sag_id=case["id"], repeat_every_hours=2, escalate_after=2, escalate_role="admin",
                     trigger_config={"from": "any", "to": "waiting_customer"})
    set_status(case["id"], "waiting_customer")
    run_worker()                                   # occurrence 1
    run_worker(offset=timedelta(hours=2, seconds=5))  # occurrence 2
    assert len(logs(rule_id=rule["id"], user_id=tech["id"])) == 2
    assert logs(rule_id=rule["id"], user_id=boss["id"]) == []
    run_worker(offset=timedelta(hours=4, seconds=10))  # occurrence 3: escalated
    boss_rows = logs(rule_id=rule["id"], user_id=boss["id"])
    assert boss_rows and boss_rows[0]["escalated"] and boss_rows[0]["title"].startswith("Escalated: ")
    # everyone reminded (the assignee and every admin) acknowledges: no more repeats
    for user_id in {r["user_id"] for r in logs(rule_id=rule["id"])}:
        ids = [r["id"] for r in logs(rule_id=rule["id"], user_id=user_id)]
        reminders_mine.mark(user_id, ids[-1:], "acknowledge")
    before = len(logs(rule_id=rule["id"]))
    run_worker(offset=timedelta(hours=6, seconds=15))
    run_worker(offset=timedelta(hours=8, seconds=20))
    assert len(logs(rule_id=rule["id"])) == before
    assert events(reminder_id=rule["id"], status="pending") == []


def test_acknowledged_reminders_stop_until_the_next_status_change(app):
    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"])
    rule = make_rule(sag_id=case["id"], trigger_type="recurring", trigger_config={"cron": "0 * * * *"})
    first = database.execute_query("SELECT next_run_at FROM sag_reminders WHERE id = %s", (rule["id"],))[0]
    offset = first["next_run_at"] - db_now() + timedelta(seconds=5)
    run_worker(offset=offset)
    [row] = logs(rule_id=rule["id"])
    reminders_mine.mark(u["id"], [row["id"]], "acknowledge")
    run_worker(offset=offset + timedelta(hours=1))
    assert len(logs(rule_id=rule["id"])) == 1          # acknowledged: the next occurrence is left out
    set_status(case["id"], "in_progress")              # a status change clears acknowledgements
    run_worker(offset=offset + timedelta(hours=2))
    assert len(logs(rule_id=rule["id"])) == 2


def test_cron_occurrences_follow_the_rules_time_zone_across_dst(app):
    from app.modules.sag.reminders.rules import cron_runs, next_cron_run

    # 08:00 Copenhagen is 07:00 UTC in winter and 06:00 UTC from 29 March 2026 (summer time)
    after = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    runs = cron_runs("0 8 * * *", "Europe/Copenhagen", after, after + timedelta(days=3), None, 10)
    assert [r.hour for r in runs] == [7, 6, 6]
    # a local time skipped by the clock change fires once, right after the gap
    nxt = next_cron_run("30 2 * * *", "Europe/Copenhagen", datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert nxt == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    # 'until' ends the series
    assert next_cron_run("0 8 * * *", "Europe/Copenhagen", after, until=after + timedelta(hours=1)) is None


def test_case_reminder_history_lists_everyones_rows(app, admin_api):
    clear_queue()
    a, b = make_user(), make_user()
    case = make_case(assigned_to=a["id"])
    make_rule(sag_id=case["id"], recipients={"assignee": True, "users": [b["id"]]})
    set_status(case["id"], "in_progress")
    run_worker()
    page = admin_api.get(f"/api/v1/sag/cases/{case['id']}/reminders/history").json()
    assert page["total"] == 2 and {i["user_id"] for i in page["items"]} == {a["id"], b["id"]}
    assert admin_api.get("/api/v1/sag/cases/99999999/reminders/history").status_code == 404


def test_runaway_templates_fail_the_event_instead_of_the_worker(app):
    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"])
    hogs = [make_rule(sag_id=case["id"], title_template=t) for t in (
        '{{ "x" * 1000000000 }}', "{{ 2 ** 100000000000 }}")]
    fine = make_rule(sag_id=case["id"])
    set_status(case["id"], "in_progress")
    run_worker()
    for rule in hogs:
        [ev] = events(reminder_id=rule["id"])
        assert ev["status"] == "failed" and "template error" in ev["last_error"]
    assert len(logs(rule_id=fine["id"])) == 1


def test_loops_macros_and_unbounded_filters_are_refused_when_saving(app):
    import pytest

    from app.core.errors import ValidationFailed

    for template in ("{% for i in range(10**5) %}{% for j in range(10**5) %}x{% endfor %}{% endfor %}",
                     "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", '{{ "x"|center(1000000000) }}'):
        with pytest.raises(ValidationFailed):
            make_rule(title_template=template)
