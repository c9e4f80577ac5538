"""The reminder API: rules CRUD and validation, my reminders and interactions, preview, queue, push contract."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from app.core import database
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    db_now,
    events,
    logs,
    make_case,
    make_rule,
    run_worker,
    set_status,
)
from tests.fixtures import make_user, token_for

LOG_KEYS = {"id", "rule_id", "sag_id", "case_title", "case_number", "title", "message", "priority", "channel",
            "status", "created_at", "seen_at", "clicked_at", "dismissed_at", "snoozed_until", "acknowledged_at", "url"}


def api(app, user) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token_for(user)}"})


def rule_body(**over):
    body = {"name": "Waiting too long", "trigger_type": "status_change",
            "trigger_config": {"from": "any", "to": "waiting_customer"}, "recipients": {"assignee": True},
            "channels": ["in_app"], "title_template": "{{ case.title }} waits"}
    body.update(over)
    return body


@pytest.mark.parametrize("over, field", [
    ({"trigger_type": "recurring", "trigger_config": {"cron": "not a cron"}}, "cron"),
    ({"trigger_type": "recurring", "trigger_config": {"cron": "0 8 * * *", "timezone": "Mars/Olympus"}}, "zone"),
    ({"trigger_config": {"from": "any", "to": "no_such_status"}}, "to"),
    ({"trigger_type": "deadline", "trigger_config": {"offset_minutes": -60}}, "offset"),
    ({"trigger_type": "deadline", "trigger_config": {"offset_minutes": "1h"}}, "offset"),
    ({"trigger_type": "scheduled", "trigger_config": {"at": "2001-01-01T08:00:00+00:00"}}, "future"),
    ({"trigger_type": "inactivity", "trigger_config": {"days": 0}}, "days"),
    ({"recipients": {"emails": ["x@example.test"]}}, "e-mail channel"),
    ({"recipients": {"emails": ["not an address"]}, "channels": ["email"]}, "e-mail"),
    ({"recipients": {}}, "recipient"),
    ({"recipients": {"users": [999999]}}, "unknown user"),
    ({"title_template": "{{ case.title "}, "template"),
    ({"name": "x" * 201}, "name"),
    ({"channels": ["sms"]}, "channels"),
    ({"surprise": True}, "surprise"),
    ({"escalate_after": 2, "escalate_role": "admin"}, "repeat_every_hours"),
])
def test_bad_rules_are_refused_with_a_clear_4xx(app, admin_api, over, field):
    r = admin_api.post("/api/v1/sag/reminders/rules", json=rule_body(**over))
    assert r.status_code == 422, r.text
    assert field.lower() in r.text.lower()


def test_malformed_json_is_a_4xx(app, admin_api):
    r = admin_api.post("/api/v1/sag/reminders/rules", content=b"{not json",
                       headers={"Content-Type": "application/json"})
    assert r.status_code == 422


def test_rule_crud_per_case_and_global_permissions(app, admin_api, user_api):
    clear_queue()
    case = make_case(deadline=db_now() + timedelta(days=2))
    assert user_api.post("/api/v1/sag/reminders/rules", json=rule_body()).status_code == 403  # global
    r = user_api.post("/api/v1/sag/reminders/rules", json=rule_body(
        sag_id=case["id"], trigger_type="deadline", trigger_config={"offset_hours": 24}))
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["trigger_config"] == {"offset_minutes": 1440}
    expected = case["deadline"] - timedelta(hours=24)
    assert abs(datetime.fromisoformat(rule["next_run_at"]) - expected) < timedelta(seconds=1)
    # listed per case
    listed = user_api.get(f"/api/v1/sag/cases/{case['id']}/reminders/rules").json()
    assert [x["id"] for x in listed["items"]] == [rule["id"]]
    assert [x["id"] for x in user_api.get(f"/api/v1/sag/reminders/rules?case_id={case['id']}").json()["items"]] \
        == [rule["id"]]
    # another user may not change it; an admin may
    other = api(app, make_user())
    assert other.patch(f"/api/v1/sag/reminders/rules/{rule['id']}", json={"name": "mine now"}).status_code == 403
    r = admin_api.patch(f"/api/v1/sag/reminders/rules/{rule['id']}", json={"trigger_config": {"offset_hours": 1}})
    assert r.status_code == 200
    moved = datetime.fromisoformat(r.json()["next_run_at"])
    assert abs(moved - (case["deadline"] - timedelta(hours=1))) < timedelta(seconds=1)
    assert len(events(reminder_id=rule["id"], status="pending")) == 1
    assert user_api.delete(f"/api/v1/sag/reminders/rules/{rule['id']}").status_code == 204
    assert user_api.get(f"/api/v1/sag/reminders/rules/{rule['id']}").status_code == 404
    assert user_api.get("/api/v1/sag/reminders/rules/99999999").status_code == 404
    assert user_api.get("/api/v1/sag/cases/99999999/reminders/rules").status_code == 404


def _deliver_to(user, n=2, channels=("in_app",)):
    case = make_case(assigned_to=user["id"])
    rule = make_rule(sag_id=case["id"], channels=list(channels))
    for status in ("in_progress", "on_hold", "waiting_customer")[:n]:
        set_status(case["id"], status)
    run_worker()
    return case, rule, logs(rule_id=rule["id"], user_id=user["id"])


def test_my_reminders_lists_only_own_rows_with_the_contract_fields(app):
    clear_queue()
    me, other = make_user(), make_user()
    case, _rule, mine = _deliver_to(me)
    _deliver_to(other)
    client = api(app, me)
    page = client.get("/api/v1/sag/reminders/mine").json()
    assert {i["id"] for i in page["items"]} == {r["id"] for r in mine}
    item = page["items"][0]
    assert LOG_KEYS <= set(item) and item["url"] == f"/sag/{case['id']}" and item["case_number"] == case["id"]
    assert page["unread_count"] == 2
    assert client.get("/api/v1/sag/reminders/mine/unread_count").json() == {"unread": 2}
    assert client.get(f"/api/v1/sag/reminders/mine?case_id={case['id']}&limit=1").json()["total"] == 2
    theirs = logs(user_id=other["id"])[0]
    assert client.get(f"/api/v1/sag/reminders/mine/{theirs['id']}").status_code == 404
    assert client.post(f"/api/v1/sag/reminders/mine/{theirs['id']}/seen").status_code == 404
    assert client.get("/api/v1/sag/reminders/mine?limit=0").status_code == 422


def test_interactions_seen_clicked_dismiss_acknowledge(app):
    clear_queue()
    me = make_user()
    _case, _rule, rows = _deliver_to(me, n=3)
    client = api(app, me)
    a, b, c = (r["id"] for r in rows)
    assert client.post(f"/api/v1/sag/reminders/mine/{a}/seen").json()["seen_at"]
    clicked = client.post(f"/api/v1/sag/reminders/mine/{b}/clicked").json()
    assert clicked["clicked_at"] and clicked["seen_at"]
    assert client.post(f"/api/v1/sag/reminders/mine/{c}/dismiss").json()["dismissed_at"]
    assert client.get("/api/v1/sag/reminders/mine/unread_count").json() == {"unread": 0}
    assert client.post(f"/api/v1/sag/reminders/mine/{a}/acknowledge").json()["acknowledged_at"]
    assert client.post(f"/api/v1/sag/reminders/mine/{a}/explode").status_code == 422


def test_snooze_until_and_tomorrow_at_eight_in_the_users_zone(app):
    clear_queue()
    me = make_user(timezone="America/New_York")
    _case, _rule, rows = _deliver_to(me, n=2)
    client = api(app, me)
    until = (db_now() + timedelta(hours=3)).isoformat()
    r = client.post(f"/api/v1/sag/reminders/mine/{rows[0]['id']}/snooze", json={"until": until})
    assert r.status_code == 200 and r.json()["snoozed_until"]
    r = client.post(f"/api/v1/sag/reminders/mine/{rows[1]['id']}/snooze", json={"preset": "tomorrow_08"})
    local = datetime.fromisoformat(r.json()["snoozed_until"]).astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (8, 0)
    assert local.date() == (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=1)).date()
    snoozed = client.get("/api/v1/sag/reminders/mine?snoozed=true").json()
    assert snoozed["total"] == 2
    assert len(events(kind="snooze", target_user_id=me["id"], status="pending")) == 2
    for bad in ({"until": "yesterday"}, {"until": "2001-01-01T00:00:00Z"}, {"preset": "never"}, {},
                {"until": until, "preset": "1h"}, {"until": (db_now() + timedelta(days=90)).isoformat()}):
        assert client.post(f"/api/v1/sag/reminders/mine/{rows[0]['id']}/snooze", json=bad).status_code == 422, bad


def test_bulk_actions_touch_only_own_rows(app):
    clear_queue()
    me, other = make_user(), make_user()
    _c, _r, mine = _deliver_to(me, n=2)
    _c, _r, theirs = _deliver_to(other, n=1)
    client = api(app, me)
    r = client.post("/api/v1/sag/reminders/mine/bulk",
                    json={"ids": [x["id"] for x in mine + theirs], "action": "seen"})
    assert r.status_code == 200 and r.json()["updated"] == sorted(x["id"] for x in mine)
    assert logs(id=theirs[0]["id"])[0]["seen_at"] is None
    r = client.post("/api/v1/sag/reminders/mine/bulk", json={"ids": [mine[0]["id"]], "action": "snooze",
                                                             "preset": "1h"})
    assert r.json()["updated"] == [mine[0]["id"]]
    assert client.post("/api/v1/sag/reminders/mine/bulk", json={"ids": [], "action": "seen"}).status_code == 422
    assert client.post("/api/v1/sag/reminders/mine/bulk", json={"ids": ["x"], "action": "seen"}).status_code == 422


def test_rate_limited_rows_are_visible_in_my_list(app):
    clear_queue()
    me = make_user()
    database.execute_update("UPDATE user_notification_preferences SET max_per_hour = 1 WHERE user_id = %s", (me["id"],))
    _deliver_to(me, n=3)
    client = api(app, me)
    held = client.get("/api/v1/sag/reminders/mine?held_back=true").json()
    assert held["total"] == 2 and {i["status"] for i in held["items"]} == {"rate_limited"}


def test_preview_shows_cases_recipients_channels_and_times_without_writing(app, admin_api):
    clear_queue()
    tech = make_user()
    database.execute_update("UPDATE user_notification_preferences SET email_enabled = FALSE WHERE user_id = %s",
                            (tech["id"],))
    soon = make_case(assigned_to=tech["id"], deadline=db_now() + timedelta(days=3))
    later = make_case(assigned_to=tech["id"], deadline=db_now() + timedelta(days=30))
    before = database.execute_query("SELECT (SELECT count(*) FROM sag_reminders) r, "
                                    "(SELECT count(*) FROM sag_reminder_queue) q")[0]
    r = admin_api.post("/api/v1/sag/reminders/preview", json=rule_body(
        trigger_type="deadline", trigger_config={"offset_hours": 24}, channels=["in_app", "email"]))
    assert r.status_code == 200, r.text
    firings = r.json()["firings"]
    mine = [f for f in firings if f["sag_id"] in (soon["id"], later["id"])]
    assert [f["sag_id"] for f in mine] == [soon["id"]]
    [who] = mine[0]["recipients"]
    assert who["user_id"] == tech["id"]
    assert who["channels"]["in_app"]["outcome"] == "send" and who["channels"]["email"]["outcome"] == "suppressed"
    at = datetime.fromisoformat(mine[0]["at"])
    assert abs(at - (soon["deadline"] - timedelta(hours=24))) < timedelta(seconds=1)
    after = database.execute_query("SELECT (SELECT count(*) FROM sag_reminders) r, "
                                   "(SELECT count(*) FROM sag_reminder_queue) q")[0]
    assert after == before
    status = admin_api.post("/api/v1/sag/reminders/preview", json=rule_body(sag_id=soon["id"])).json()
    assert "waiting_customer" in status["firings"][0]["note"]
    assert admin_api.post("/api/v1/sag/reminders/preview", json=rule_body(
        trigger_type="recurring", trigger_config={"cron": "0 9 * * *"}, sag_id=soon["id"])).json()["firings"]


def test_queue_overview_and_retry_are_for_admins(app, admin_api, user_api):
    clear_queue()
    u = make_user()
    case = make_case(assigned_to=u["id"])
    bad = make_rule(sag_id=case["id"], title_template="{{ missing_variable }}")
    set_status(case["id"], "in_progress")
    run_worker()
    [failed] = events(reminder_id=bad["id"])
    assert user_api.get("/api/v1/sag/reminders/queue").status_code == 403
    overview = admin_api.get("/api/v1/sag/reminders/queue").json()
    assert overview["counts"]["failed"] >= 1
    assert {"oldest_due", "throughput_last_hour", "recent_failures", "next_due"} <= set(overview)
    assert any(f["id"] == failed["id"] and "template" in f["last_error"] for f in overview["recent_failures"])
    assert user_api.post(f"/api/v1/sag/reminders/queue/{failed['id']}/retry").status_code == 403
    r = admin_api.post(f"/api/v1/sag/reminders/queue/{failed['id']}/retry")
    assert r.status_code == 200 and events(id=failed["id"])[0]["status"] == "pending"
    assert admin_api.post(f"/api/v1/sag/reminders/queue/{failed['id']}/retry").status_code == 409
    assert admin_api.post("/api/v1/sag/reminders/queue/999999999/retry").status_code == 404


def test_push_contract_notifies_delivery_and_interactions(app):
    clear_queue()
    me = make_user()
    import os

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as listen:
        listen.execute("LISTEN bmc_user_notifications")
        _case, _rule, [row] = _deliver_to(me, n=1)
        got = [json.loads(n.payload) for n in listen.notifies(timeout=5, stop_after=1)]
        assert got[0]["user_id"] == me["id"] and got[0]["log_id"] == row["id"] and got[0]["event"] == "reminder"
        api(app, me).post(f"/api/v1/sag/reminders/mine/{row['id']}/dismiss")
        got = [json.loads(n.payload) for n in listen.notifies(timeout=5, stop_after=1)]
        assert got[0] == {**got[0], "user_id": me["id"], "log_id": row["id"], "event": "update"}


@pytest.mark.parametrize("recipients, extra", [
    ({"roles": ["user"]}, {}),
    ({"assignee": True, "emails": ["partner@example.test"]}, {"channels": ["email"]}),
    ({"assignee": True}, {"repeat_every_hours": 2, "escalate_after": 2, "escalate_role": "admin"}),
])
def test_only_admins_may_address_roles_or_external_addresses(app, admin_api, user_api, recipients, extra):
    case = make_case()
    body = rule_body(sag_id=case["id"], recipients=recipients, **extra)
    r = user_api.post("/api/v1/sag/reminders/rules", json=body)
    assert r.status_code == 403 and "administrators" in r.json()["detail"]
    assert user_api.post("/api/v1/sag/reminders/preview", json=body).status_code == 403
    assert admin_api.post("/api/v1/sag/reminders/rules", json=body).status_code == 201
    # a user's own rule may not be changed to address a role or an outside address either
    own = user_api.post("/api/v1/sag/reminders/rules", json=rule_body(sag_id=case["id"])).json()
    r = user_api.patch(f"/api/v1/sag/reminders/rules/{own['id']}", json={"recipients": recipients, **extra})
    assert r.status_code == 403
    assert user_api.get(f"/api/v1/sag/reminders/rules/{own['id']}").json()["recipients"]["roles"] == []


def test_non_admins_may_name_assignee_creator_and_users(app, user_api):
    case = make_case()
    named = make_user()
    r = user_api.post("/api/v1/sag/reminders/rules", json=rule_body(
        sag_id=case["id"], recipients={"assignee": True, "creator": True, "users": [named["id"]]}))
    assert r.status_code == 201, r.text


def test_global_rules_are_readable_only_by_admins(app, admin_api, user_api):
    case = make_case()
    g = admin_api.post("/api/v1/sag/reminders/rules", json=rule_body(
        name="Secret global", recipients={"emails": ["board@example.test"]}, channels=["email"],
        title_template="Internal: {{ case.title }}")).json()
    assert user_api.get(f"/api/v1/sag/reminders/rules/{g['id']}").status_code == 403
    assert user_api.get("/api/v1/sag/reminders/rules?scope=global").status_code == 403
    listed = user_api.get("/api/v1/sag/reminders/rules?limit=200").json()["items"]
    assert all(x["sag_id"] is not None for x in listed)
    assert admin_api.get(f"/api/v1/sag/reminders/rules/{g['id']}").json()["recipients"]["emails"] \
        == ["board@example.test"]
    # a non-admin reading a case's rules learns that the global rule applies, not whom it mails or its text
    seen = user_api.get(f"/api/v1/sag/cases/{case['id']}/reminders/rules?include_global=true").json()
    mine = [x for x in seen["global_rules"] if x["id"] == g["id"]][0]
    assert mine["name"] == "Secret global" and mine["trigger_type"] == "status_change"
    assert not {"recipients", "title_template", "message_template", "escalate_role"} & set(mine)
    assert "board@example.test" not in json.dumps(seen)
    full = admin_api.get(f"/api/v1/sag/cases/{case['id']}/reminders/rules?include_global=true").json()
    assert [x for x in full["global_rules"] if x["id"] == g["id"]][0]["recipients"]["emails"] == ["board@example.test"]


def test_naive_snooze_until_and_scheduled_at_are_read_in_the_users_zone(app):
    """A time without offset means the acting user's local time, as for a case's deadline."""
    clear_queue()
    zone = ZoneInfo("Pacific/Auckland")  # far from the hub's zone, so a mix-up shows
    me = make_user(timezone="Pacific/Auckland")
    case, _rule, rows = _deliver_to(me, n=1)
    client = api(app, me)
    local = (db_now() + timedelta(hours=5)).astimezone(zone).replace(microsecond=0, second=0, tzinfo=None)
    r = client.post(f"/api/v1/sag/reminders/mine/{rows[0]['id']}/snooze", json={"until": local.isoformat()})
    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.json()["snoozed_until"]) == local.replace(tzinfo=zone)
    later = local + timedelta(days=1)
    r = client.post("/api/v1/sag/reminders/rules", json=rule_body(
        sag_id=case["id"], trigger_type="scheduled", trigger_config={"at": later.isoformat()}))
    assert r.status_code == 201, r.text
    assert datetime.fromisoformat(r.json()["trigger_config"]["at"]) == later.replace(tzinfo=zone)
    assert datetime.fromisoformat(r.json()["next_run_at"]) == later.replace(tzinfo=zone)
    preview = client.post("/api/v1/sag/reminders/preview", json=rule_body(
        sag_id=case["id"], trigger_type="scheduled", trigger_config={"at": later.isoformat()}))
    assert preview.status_code == 200, preview.text


def test_queue_page_and_api_count_the_same_way(app, admin_api):
    """Inbox firings are pending on both; last hour's throughput is sent events on both."""
    import re

    clear_queue()
    case = make_case()
    rule = make_rule(sag_id=case["id"], active=False)
    database.execute_update("INSERT INTO sag_reminder_inbox (reminder_id, sag_id, event_data) VALUES "
                            "(%s, %s, '{}'), (%s, %s, '{}')", (rule["id"], case["id"], rule["id"], case["id"]))
    for status in ("sent", "skipped", "failed"):
        database.execute_update(
            "INSERT INTO sag_reminder_queue (sag_id, kind, trigger_type, status, scheduled_for, processed_at) "
            "VALUES (%s, 'rule', 'status_change', %s, now(), now())", (case["id"], status))
    api_view = admin_api.get("/api/v1/sag/reminders/queue").json()
    page = admin_api.get("/sag/reminders/queue")
    assert page.status_code == 200
    for status, n in api_view["counts"].items():
        assert re.search(rf'data-count="{status}">{n}<', page.text), status
    assert api_view["counts"]["pending"] >= 2
    through = api_view["throughput_last_hour"]
    shown = re.search(r'data-field="throughput">(\d+) events processed, (\d+) notifications delivered, '
                      r'(\d+) held back', page.text)
    assert shown and tuple(map(int, shown.groups())) == (through["events"], through["notifications"],
                                                          through["rate_limited"])
    sent_last_hour = database.execute_query(
        "SELECT count(*)::int AS n FROM sag_reminder_queue WHERE status = 'sent' "
        "AND processed_at > now() - interval '1 hour'")[0]["n"]
    assert through["events"] == sent_last_hour
    database.execute_update("DELETE FROM sag_reminder_inbox")
