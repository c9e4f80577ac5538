"""Storms grouped, not dropped: one rule firing for one user for several cases at once arrives as
one reminder (one toast push, one e-mail with a table) while each case keeps its own log row,
acknowledgeable on its own. Through a real worker, the real push channel and a real SMTP server.
"""

from __future__ import annotations

import json
from datetime import timedelta

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
)
from tests.fixtures import make_user, token_for


class Pushes:
    """The browser push channel, listened to like an app process does."""

    def __init__(self):
        self.conn = database.connect(autocommit=True)
        self.conn.execute("LISTEN bmc_user_notifications")

    def reminders_for(self, user_id: int) -> list[int]:
        got = [json.loads(n.payload) for n in self.conn.notifies(timeout=0.5, stop_after=None)]
        self.conn.close()
        return [p["log_id"] for p in got if p["user_id"] == user_id and p["event"] == "reminder"]


def _bulk_status(case_ids: list[int], status: str) -> None:
    database.execute_update("UPDATE sag_sager SET status = %s WHERE id = ANY(%s)", (status, case_ids))


def _api(app, user: dict) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token_for(user)}"})


def test_one_rule_firing_for_many_cases_of_one_user_is_one_reminder_each_case_logged(app, smtp_inbox):
    clear_queue()
    mette, ole = make_user(), make_user()
    cases = [make_case(title=f"Printer {i}", assigned_to=mette["id"]) for i in range(5)]
    lone = make_case(title="Ole's only case", assigned_to=ole["id"])
    rule = make_rule(name="Waiting for the customer", channels=["in_app", "email"],
                     trigger_config={"from": "any", "to": "waiting_customer"},
                     title_template="#{{ case.number }} waits for the customer")
    pushes = Pushes()
    _bulk_status([c["id"] for c in cases] + [lone["id"]], "waiting_customer")
    run_worker()

    in_app = logs(user_id=mette["id"], channel="in_app")
    [group] = [r for r in in_app if r["sag_id"] is None]
    members = [r for r in in_app if r["sag_id"] is not None]
    assert group["title"] == "Waiting for the customer: 5 cases" and group["rule_id"] == rule["id"]
    assert sorted(m["sag_id"] for m in members) == sorted(c["id"] for c in cases)
    assert {m["group_id"] for m in members} == {group["id"]} and all(m["status"] == "sent" for m in members)
    assert f"#{cases[0]['id']} Printer 0" in group["message"]
    # One push for Mette (the group), Ole's single reminder pushed as it is.
    [ole_row] = logs(user_id=ole["id"], channel="in_app")
    assert ole_row["group_id"] is None and ole_row["sag_id"] == lone["id"]
    assert ole_row["title"] == f"#{lone['id']} waits for the customer"
    sent_pushes = pushes.reminders_for(mette["id"])
    assert sent_pushes == [group["id"]]

    # One e-mail listing the five cases in a table; the per-case e-mail rows are delivered with it.
    mails = smtp_inbox.to(mette)
    assert len(mails) == 1 and mails[0]["Subject"] == "Waiting for the customer: 5 cases"
    html = mails[0].get_body(("html",)).get_content()
    assert "<table" in html and all(f"#{c['id']}</a> Printer" in html for c in cases)
    email_rows = logs(user_id=mette["id"], channel="email")
    assert all(r["status"] == "sent" for r in email_rows) and len(email_rows) == 6
    assert len(smtp_inbox.to(ole)) == 1

    # The bell counts the grouped reminder once; each case is acknowledged on its own.
    api = _api(app, mette)
    assert api.get("/api/v1/sag/reminders/mine/unread_count").json() == {"unread": 1}
    listed = api.get(f"/api/v1/sag/reminders/mine?group={group['id']}").json()
    assert sorted(i["sag_id"] for i in listed["items"]) == sorted(c["id"] for c in cases)
    assert api.post(f"/api/v1/sag/reminders/mine/{members[0]['id']}/acknowledge").status_code == 200
    acked = {r["id"]: r["acknowledged_at"] for r in logs(user_id=mette["id"], channel="in_app")}
    assert acked[members[0]["id"]] is not None
    assert all(acked[m["id"]] is None for m in members[1:]) and acked[group["id"]] is None
    page = api.get(f"/sag/reminders?group={group['id']}")
    assert page.status_code == 200 and 'id="groupNotice"' in page.text and "Printer 4" in page.text
    assert f'href="/sag/reminders?group={group["id"]}&amp;channel=in_app"' in api.get("/sag/reminders").text


def test_grouping_off_delivers_each_case_and_one_case_never_groups(app):
    clear_queue()
    user = make_user()
    cases = [make_case(assigned_to=user["id"]) for _ in range(3)]
    make_rule(trigger_config={"from": "any", "to": "on_hold"}, group_window_minutes=0)
    _bulk_status([c["id"] for c in cases], "on_hold")
    run_worker()
    rows = logs(user_id=user["id"])
    assert len(rows) == 3 and all(r["group_id"] is None and r["sag_id"] for r in rows)


def test_first_run_of_a_new_global_rule_is_grouped_even_with_grouping_off(app):
    clear_queue()
    user = make_user()
    quiet = [make_case(title=f"Quiet {i}", assigned_to=user["id"]) for i in range(4)]
    rule = make_rule(name="Quiet for 5 days", trigger_type="inactivity", trigger_config={"days": 5},
                     group_window_minutes=0, title_template="#{{ case.number }} has been quiet for 5 days")
    run_worker(timedelta(days=6))
    rows = logs(user_id=user["id"], rule_id=rule["id"])
    [group] = [r for r in rows if r["sag_id"] is None]
    assert group["title"] == "Quiet for 5 days: 4 cases"
    assert sorted(r["sag_id"] for r in rows if r["group_id"] == group["id"]) == sorted(c["id"] for c in quiet)
    [storm] = events(kind="storm", target_user_id=user["id"])
    assert storm["status"] == "sent" and storm["reminder_id"] == rule["id"]


def test_firings_due_within_the_window_are_gathered_into_one_reminder(app):
    clear_queue()
    user = make_user()
    base = db_now() + timedelta(hours=2)
    near = [make_case(assigned_to=user["id"], deadline=base + timedelta(seconds=s)) for s in (0, 60, 110)]
    far = make_case(assigned_to=user["id"], deadline=base + timedelta(minutes=10))
    make_rule(name="Due now", trigger_type="deadline", trigger_config={"offset_minutes": 0},
              group_window_minutes=2, title_template="#{{ case.number }} is due")
    run_worker(base - db_now() + timedelta(seconds=1))
    rows = logs(user_id=user["id"])
    [group] = [r for r in rows if r["sag_id"] is None]
    assert group["title"] == "Due now: 3 cases"
    assert sorted(r["sag_id"] for r in rows if r["group_id"] == group["id"]) == sorted(c["id"] for c in near)
    assert far["id"] not in {r["sag_id"] for r in rows}
    assert [e["status"] for e in events(sag_id=far["id"], kind="rule")] == ["pending"]


def test_group_window_is_a_rule_setting_from_0_to_1440_minutes(app, admin_api):
    body = {"name": "Windowed", "trigger_type": "status_change", "trigger_config": {"to": "on_hold"},
            "title_template": "{{ case.title }}"}
    created = admin_api.post("/api/v1/sag/reminders/rules", json=body)
    assert created.status_code == 201 and created.json()["group_window_minutes"] == 2
    rule_id = created.json()["id"]
    patched = admin_api.patch(f"/api/v1/sag/reminders/rules/{rule_id}", json={"group_window_minutes": 0})
    assert patched.status_code == 200 and patched.json()["group_window_minutes"] == 0
    for bad in (-1, 1441, True, None, 1.5, "soon"):
        r = admin_api.patch(f"/api/v1/sag/reminders/rules/{rule_id}", json={"group_window_minutes": bad})
        assert r.status_code == 422, bad
    assert admin_api.get(f"/api/v1/sag/reminders/rules/{rule_id}").json()["group_window_minutes"] == 0
