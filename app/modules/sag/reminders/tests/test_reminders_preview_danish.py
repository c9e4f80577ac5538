"""The rule preview's times in words in the reader's language: a Danish admin reads "tirs.
1. dec. 09.45 (4 arbejdstimer før fristen (standardkalenderen))" and "75 % af løsningsfristen,
frist ..."; an English admin still reads English."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import database, formats
from app.modules.sag.reminders.tests.reminders_helpers import clear_queue, db_now, make_calendar, make_case
from app.modules.sag.sla import businesstime, calendars

CPH = ZoneInfo("Europe/Copenhagen")
PREVIEW = "/api/v1/sag/reminders/preview"


@pytest.fixture(scope="module")
def office(app):
    cal = make_calendar("Kontor")
    policy = database.execute_insert("INSERT INTO sag_sla_policies (name, response_minutes, resolution_minutes) "
                                     "VALUES ('Standard', 60, 480) RETURNING id")
    database.execute_update("INSERT INTO sag_sla_pause_statuses (policy_id, status) VALUES (%s, 'on_hold')", (policy,))
    return cal


def _preview(api, language: str, body: dict) -> list[dict]:
    database.execute_update("UPDATE users SET language = %s WHERE id = %s", (language, api.user["id"]))
    r = api.post(PREVIEW, json={"name": "Preview", "title_template": "{{ case.title }}", **body})
    assert r.status_code == 200, r.text
    return r.json()["firings"]


def test_deadline_preview_in_danish_and_english(office, admin_api):
    clear_queue()
    deadline = (db_now().astimezone(CPH) + timedelta(days=5)).replace(hour=10, minute=0, second=0, microsecond=0)
    case = make_case(deadline=deadline)
    body = {"sag_id": case["id"], "trigger_type": "deadline",
            "trigger_config": {"offset_hours": 4, "calendar": "default"}}
    expected = businesstime.add_working_minutes(calendars.load(office), deadline, -240)
    [item] = _preview(admin_api, "da", body)
    shown = formats.format_datetime(expected, "day", CPH.key, language="da")  # e.g. "fre. 4. dec. 12.00"
    assert item["when"] == f"{shown} (4 arbejdstimer før fristen (standardkalenderen))"
    [item] = _preview(admin_api, "en", body)
    assert item["when"].endswith("(4 working hours before the deadline (default calendar))")


def test_sla_preview_in_danish(office, admin_api):
    clear_queue()
    case = make_case(title="Server nede")
    items = _preview(admin_api, "da", {"sag_id": case["id"], "trigger_type": "sla",
                                       "trigger_config": {"target": "resolution", "thresholds": [100, 75]}})
    due = database.execute_query("SELECT resolution_due_at FROM sag_sla_clocks WHERE sag_id = %s",
                                 (case["id"],))[0]["resolution_due_at"]
    shown = formats.format_datetime(due, "day", CPH.key, language="da")
    assert items[0]["when"].endswith(f"(75 % af løsningsfristen, frist {shown})")
    assert items[1]["when"] == f"{shown} (overskridelsen af løsningsfristen, frist {shown})"
