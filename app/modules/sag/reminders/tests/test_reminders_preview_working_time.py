"""The rule preview in working time: a deadline offset in working hours shows its instant and
why ("Fri 4 Dec, 12:00 (4 working hours before the deadline (default calendar))"), an sla rule
shows when each threshold would fire, a rule that delivers only within opening hours shows
until when a firing would be held; bad sla and calendar input is 422, never 500."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import database, formats
from app.modules.sag.reminders.tests.reminders_helpers import clear_queue, db_now, make_calendar, make_case
from app.modules.sag.sla import businesstime, calendars

CPH = ZoneInfo("Europe/Copenhagen")
PREVIEW = "/api/v1/sag/reminders/preview"


@pytest.fixture(scope="module")
def office(app):
    cal = make_calendar("Office")
    policy = database.execute_insert("INSERT INTO sag_sla_policies (name, response_minutes, resolution_minutes) "
                                     "VALUES ('Standard', 60, 480) RETURNING id")
    database.execute_update("INSERT INTO sag_sla_pause_statuses (policy_id, status) VALUES (%s, 'on_hold')", (policy,))
    return cal


def _at(item: dict) -> datetime:
    return datetime.fromisoformat(item["at"]) if isinstance(item["at"], str) else item["at"]


def _shown(at: datetime) -> str:
    return formats.format_datetime(at, "day", CPH.key, language="en")  # "Fri 4 Dec, 12:00"


def _rule(case_id: int, trigger_type: str, config: dict, **extra) -> dict:
    return {"name": "Preview", "sag_id": case_id, "trigger_type": trigger_type, "trigger_config": config,
            "title_template": "{{ case.title }}", **extra}


def test_deadline_preview_shows_the_working_time_instant_and_why(office, admin_api):
    clear_queue()
    deadline = (db_now().astimezone(CPH) + timedelta(days=5)).replace(hour=10, minute=0, second=0, microsecond=0)
    case = make_case(deadline=deadline)
    r = admin_api.post(PREVIEW, json=_rule(case["id"], "deadline", {"offset_hours": 4, "calendar": "default"}))
    assert r.status_code == 200, r.text
    [item] = r.json()["firings"]
    expected = businesstime.add_working_minutes(calendars.load(office), deadline, -240)
    assert _at(item) == expected
    assert item["when"] == f"{_shown(expected)} (4 working hours before the deadline (default calendar))"


def test_sla_preview_shows_when_each_threshold_fires(office, admin_api):
    clear_queue()
    case = make_case(title="Server down")
    clock = database.execute_query("SELECT * FROM sag_sla_clocks WHERE sag_id = %s", (case["id"],))[0]
    r = admin_api.post(PREVIEW, json=_rule(case["id"], "sla", {"target": "resolution", "thresholds": [100, 75]},
                                           title_template="{{ sla.threshold }} % of {{ case.title }}"))
    assert r.status_code == 200, r.text
    items = r.json()["firings"]
    assert [(i["threshold"], i["target"]) for i in items] == [(75, "resolution"), (100, "resolution")]
    cal = calendars.load(office)
    created = database.execute_query("SELECT created_at FROM sag_sager WHERE id = %s", (case["id"],))[0]["created_at"]
    assert _at(items[0]) == businesstime.add_working_minutes(cal, created, 360)  # 75 % of 480
    assert _at(items[1]) == clock["resolution_due_at"]
    due = _shown(clock["resolution_due_at"])
    assert items[0]["when"].endswith(f"(75 % of the resolution target, due {due})")
    assert items[1]["when"] == f"{due} (the breach of the resolution target, due {due})"
    assert items[0]["title"] == "75 % of Server down"


def test_preview_shows_until_when_opening_hours_hold_a_firing(office, admin_api):
    clear_queue()
    u = database.execute_query("SELECT id FROM users ORDER BY id LIMIT 1")[0]["id"]
    now = db_now().astimezone(CPH)
    saturday = (now + timedelta(days=(5 - now.weekday()) % 7 or 7)).replace(hour=10, minute=0, second=0,
                                                                            microsecond=0)
    case = make_case(deadline=saturday, assigned_to=u)
    r = admin_api.post(PREVIEW, json=_rule(case["id"], "deadline", {"offset_minutes": 0},
                                           deliver_in_opening_hours=True))
    assert r.status_code == 200, r.text
    [item] = r.json()["firings"]
    opens = businesstime.next_open(calendars.load(office), saturday)
    assert datetime.fromisoformat(item["held_until"]) == opens
    assert item["when"].endswith(f"; held until {_shown(opens)}, when the calendar opens")
    [who] = item["recipients"]
    assert who["channels"]["in_app"]["outcome"] == "held"


@pytest.mark.parametrize("config", [
    {"target": "resolution", "thresholds": [0]},
    {"target": "resolution", "thresholds": [101]},
    {"target": "resolution", "thresholds": []},
    {"target": "resolution", "thresholds": list(range(1, 12))},
    {"target": "resolution", "thresholds": ["75 %"]},
    {"target": "resolution", "thresholds": [True]},
    {"target": "resolution", "thresholds": 75},
    {"target": "deadline", "thresholds": [75]},
    {"target": "resolution"},
    {"target": "resolution", "thresholds": [75], "calendar": "default"},
])
def test_bad_sla_rules_are_422(office, admin_api, config):
    body = _rule(None, "sla", config)
    for url in (PREVIEW, "/api/v1/sag/reminders/rules"):
        r = admin_api.post(url, json=body)
        assert r.status_code == 422, (url, r.text)
        assert "trigger_config" in r.text


def test_a_patch_to_an_sla_rule_is_validated_too(office, admin_api):
    r = admin_api.post("/api/v1/sag/reminders/rules", json=_rule(None, "sla", {"target": "response",
                                                                              "thresholds": [50, 100]}))
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]
    assert r.json()["trigger_config"] == {"target": "response", "thresholds": [50, 100]}
    r = admin_api.patch(f"/api/v1/sag/reminders/rules/{rule_id}", json={"trigger_config": {"thresholds": [150]}})
    assert r.status_code == 422, r.text
    r = admin_api.patch(f"/api/v1/sag/reminders/rules/{rule_id}", json={"trigger_config": {"thresholds": [90]}})
    assert r.status_code == 200 and r.json()["trigger_config"] == {"target": "resolution", "thresholds": [90]}
