""""Deliver only within opening hours": firings while the rule's calendar is closed are held
(logged `deferred`) until it opens, then go out in the order they fired: one by one for a
user with a few, one summary for a user with more than OPENING_BURST_MAX (each reminder still
logged and acknowledgeable); firings within opening hours go out at once."""

from __future__ import annotations

import json
import os
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from app.modules.sag.reminders.opening_hours import OPENING_BURST_MAX
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    db_now,
    events,
    logs,
    make_calendar,
    make_case,
    make_rule,
    run_worker,
    set_status,
)
from tests.fixtures import make_user, token_for

CPH = ZoneInfo("Europe/Copenhagen")
SATURDAY = datetime(2027, 1, 16, 10, tzinfo=CPH)
MONDAY_OPENS = datetime(2027, 1, 18, 8, tzinfo=CPH)


@pytest.fixture(scope="module")
def office(app):
    return make_calendar()


def _fire(rule_for: list[dict]) -> None:
    """One status change per case (each a firing of the rule for its assignee)."""
    for case in rule_for:
        set_status(case["id"], "in_progress")


def _run_at(at: datetime) -> int:
    return run_worker(offset=at - db_now())


def test_held_firings_go_out_in_order_at_opening_with_one_summary_when_many(app, office):
    clear_queue()
    few, many = make_user(), make_user()
    rule = make_rule(trigger_config={"from": "any", "to": "in_progress"}, deliver_in_opening_hours=True,
                     title_template="{{ case.title }} is being worked on")
    assert rule["deliver_in_opening_hours"] is True and rule["opening_hours_calendar"] is None
    cases = [make_case(title=f"Few {i}", assigned_to=few["id"]) for i in range(2)]
    cases += [make_case(title=f"Many {i}", assigned_to=many["id"]) for i in range(OPENING_BURST_MAX + 1)]
    _fire(cases)
    _run_at(SATURDAY)
    held = logs(rule_id=rule["id"])
    assert len(held) == len(cases)
    assert {(r["status"], r["held_for_opening"], r["deliver_after"]) for r in held} == {
        ("deferred", True, MONDAY_OPENS)}
    assert {e["target_user_id"] for e in events(kind="opening", status="pending")} == {few["id"], many["id"]}
    assert _run_at(datetime(2027, 1, 18, 7, 59, tzinfo=CPH)) == 0

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as listen:
        listen.execute("LISTEN bmc_user_notifications")
        _run_at(datetime(2027, 1, 18, 8, 1, tzinfo=CPH))
        pushed = [json.loads(n.payload) for n in listen.notifies(timeout=3)]
    reminders = [p for p in pushed if p["event"] == "reminder"]
    by_id = {r["id"]: r for r in logs(rule_id=rule["id"])}
    # The user with a few: each reminder pushed on its own, in the order they fired.
    few_rows = [r for r in by_id.values() if r["user_id"] == few["id"]]
    assert [p["log_id"] for p in reminders if p["user_id"] == few["id"]] == sorted(r["id"] for r in few_rows)
    assert all(r["status"] == "sent" and not r["in_summary"] for r in few_rows)
    # The user with many: one summary pushed; each reminder logged as sent within it.
    many_rows = [r for r in by_id.values() if r["user_id"] == many["id"]]
    assert all(r["status"] == "sent" and r["in_summary"] for r in many_rows)
    [summary] = [p for p in reminders if p["user_id"] == many["id"]]
    [summary_row] = logs(id=summary["log_id"])
    assert summary_row["title"] == f"{OPENING_BURST_MAX + 1} reminders held until opening hours"
    assert "Many 0 is being worked on" in summary_row["message"]
    # Each held reminder can still be acknowledged.
    client = TestClient(app, headers={"Authorization": f"Bearer {token_for(many)}"})
    r = client.post(f"/api/v1/sag/reminders/mine/{many_rows[0]['id']}/acknowledge")
    assert r.status_code == 200, r.text
    assert logs(id=many_rows[0]["id"])[0]["acknowledged_at"] is not None
    assert {e["status"] for e in events(kind="opening")} == {"sent"}


def test_firings_within_opening_hours_go_out_at_once(office):
    clear_queue()
    u = make_user()
    rule = make_rule(trigger_config={"from": "any", "to": "in_progress"}, deliver_in_opening_hours=True,
                     opening_hours_calendar="office", title_template="now")
    assert rule["opening_hours_calendar"] == "Office"
    _fire([make_case(assigned_to=u["id"])])
    _run_at(datetime(2027, 1, 18, 9, tzinfo=CPH))
    [row] = logs(rule_id=rule["id"])
    assert row["status"] == "sent" and not row["held_for_opening"]


def test_quiet_hours_digest_leaves_held_rows_alone(office):
    clear_queue()
    u = make_user()
    rule = make_rule(trigger_config={"from": "any", "to": "in_progress"}, deliver_in_opening_hours=True,
                     channels=["in_app", "email"], title_template="mail")
    _fire([make_case(assigned_to=u["id"])])
    _run_at(SATURDAY)
    rows = logs(rule_id=rule["id"])
    assert {(r["channel"], r["status"], r["held_for_opening"]) for r in rows} == {
        ("in_app", "deferred", True), ("email", "deferred", True)}
    assert events(kind="digest", target_user_id=u["id"]) == []
    _run_at(datetime(2027, 1, 18, 8, 1, tzinfo=CPH))
    assert {(r["channel"], r["status"]) for r in logs(rule_id=rule["id"])} == {("in_app", "sent"), ("email", "sent")}


def test_bad_opening_hours_options_are_422(office, admin_api):
    body = {"name": "x", "trigger_type": "status_change", "title_template": "x"}
    for extra, field in (({"deliver_in_opening_hours": True, "opening_hours_calendar": "Nowhere"},
                          "opening_hours_calendar"),
                         ({"deliver_in_opening_hours": "yes"}, "deliver_in_opening_hours"),
                         ({"deliver_in_opening_hours": True, "opening_hours_calendar": 3}, "opening_hours_calendar")):
        r = admin_api.post("/api/v1/sag/reminders/rules", json={**body, **extra})
        assert r.status_code == 422, r.text
        assert field in r.text
