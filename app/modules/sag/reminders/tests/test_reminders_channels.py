"""Delivery channels are plug-ins: a third channel registered through the registry gets its log rows
through the same batch path as in-app and e-mail, with preferences, quiet hours and the hourly
limit honoured per its flags; its failures are retried without delaying in-app. Event kinds come
from one table: a kind without an entry fails its event with a clear error."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import database
from app.modules.sag.reminders import channels
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


@dataclass
class Recorder:
    """A channel that keeps what it is handed; `fail_next` errors for that many deliver() calls."""

    name: str = "recorder"
    label: str = "Recorder"
    preference: str | None = None
    quiet_hours: bool = False
    rate_limited: bool = True
    external: bool = False
    pending: bool = True
    chunk_size: int = 10
    fail_next: int = 0
    raise_instead: bool = False
    delivered: list[dict] = field(default_factory=list)
    summaries: list[tuple[int, str, int]] = field(default_factory=list)

    def deliver(self, conn, rows, ctx):
        if self.fail_next:
            self.fail_next -= 1
            if self.raise_instead:
                raise ConnectionError("recorder is down")
            return {r["id"]: "recorder refused" for r in rows}
        self.delivered.extend(dict(r) for r in rows)
        return {r["id"]: None for r in rows}

    def send_summary(self, user, summary):
        self.summaries.append((user["id"], summary.title, len(summary.items)))
        return None


@pytest.fixture
def recorder(monkeypatch):
    rec = Recorder()
    monkeypatch.setattr(channels, "extra_channels", lambda: [rec])
    return rec


def _status_change(user: dict, chans: list[str]) -> tuple[dict, dict]:
    case = make_case(assigned_to=user["id"], title="Printer on fire")
    rule = make_rule(sag_id=case["id"], channels=chans, title_template="{{ case.title }}: {{ new_status }}")
    set_status(case["id"], "in_progress")
    return case, rule


def _statuses(rule: dict) -> dict[str, str]:
    return {r["channel"]: r["status"] for r in logs(rule_id=rule["id"])}


def test_registered_channel_receives_its_rows_through_the_batch_path(app, recorder):
    clear_queue()
    u = make_user()
    case, rule = _status_change(u, ["in_app", "recorder"])
    run_worker()
    [row] = recorder.delivered
    assert (row["user_id"], row["sag_id"], row["title"]) == (u["id"], case["id"], "Printer on fire: in_progress")
    assert row["case_title"] == "Printer on fire"  # the case details come with the row
    assert _statuses(rule) == {"in_app": "sent", "recorder": "sent"}
    assert [e["status"] for e in events(reminder_id=rule["id"])] == ["sent"]
    run_worker()
    assert len(recorder.delivered) == 1  # delivered once


def test_a_channel_that_is_complete_when_written_is_never_handed_over(app, recorder):
    clear_queue()
    recorder.pending = False
    u = make_user()
    _case, rule = _status_change(u, ["recorder"])
    run_worker()
    assert recorder.delivered == []
    assert _statuses(rule) == {"recorder": "sent"}
    assert [e["status"] for e in events(reminder_id=rule["id"])] == ["sent"]


def test_rules_accept_registered_channels_only(app, recorder, monkeypatch):
    clear_queue()
    u = make_user()
    assert make_rule(channels=["recorder"], recipients={"users": [u["id"]]})["channels"] == ["recorder"]
    monkeypatch.setattr(channels, "extra_channels", lambda: [])
    from app.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="unknown channel.*recorder"):
        make_rule(channels=["recorder"], recipients={"users": [u["id"]]})


def test_per_kind_override_and_the_channels_own_switch_are_honoured(app, recorder):
    clear_queue()
    u = make_user()
    database.execute_update(
        "UPDATE user_notification_preferences SET trigger_overrides = %s::jsonb WHERE user_id = %s",
        ('{"status_change": {"recorder": false}}', u["id"]))
    _case, rule = _status_change(u, ["in_app", "recorder"])
    run_worker()
    assert _statuses(rule) == {"in_app": "sent", "recorder": "suppressed"}
    assert recorder.delivered == []

    # A channel governed by a preference switch: the e-mail switch, here.
    recorder.preference = "email_enabled"
    v = make_user()
    prefs(v["id"], email_enabled=False)
    _case, rule = _status_change(v, ["in_app", "recorder"])
    run_worker()
    assert _statuses(rule) == {"in_app": "sent", "recorder": "suppressed"}
    prefs(v["id"], email_enabled=True)
    _case, rule = _status_change(v, ["recorder"])
    run_worker()
    assert _statuses(rule) == {"recorder": "sent"}


def _quiet_user() -> dict:
    """A user whose quiet hours contain now and end two hours from now."""
    zone = "Europe/Copenhagen"
    local = db_now().astimezone(ZoneInfo(zone))
    u = make_user(timezone=zone)
    prefs(u["id"], quiet_hours_start=(local - timedelta(hours=1)).time().replace(second=0, microsecond=0),
          quiet_hours_end=(local + timedelta(hours=2)).time().replace(second=0, microsecond=0))
    return u


def test_quiet_hours_defer_a_channel_that_keeps_them_and_its_digest_goes_through_it(app, recorder):
    clear_queue()
    recorder.quiet_hours = True
    u = _quiet_user()
    _case, rule = _status_change(u, ["in_app", "recorder"])
    run_worker()
    assert _statuses(rule) == {"in_app": "sent", "recorder": "deferred"}
    assert recorder.delivered == [] and len(events(kind="digest", target_user_id=u["id"])) == 1
    run_worker(offset=timedelta(hours=2, minutes=1))
    assert recorder.summaries == [(u["id"], "1 reminder from your quiet hours", 1)]
    assert _statuses(rule) == {"in_app": "sent", "recorder": "sent"}
    assert events(kind="digest", target_user_id=u["id"])[0]["status"] == "sent"


def test_quiet_hours_do_not_touch_a_channel_that_does_not_keep_them(app, recorder):
    clear_queue()
    u = _quiet_user()
    _case, rule = _status_change(u, ["recorder"])
    run_worker()
    assert _statuses(rule) == {"recorder": "sent"}
    assert len(recorder.delivered) == 1


def _two_changes_over_a_cap_of_one(u: dict, chans: list[str]) -> dict:
    prefs(u["id"], max_per_hour=1)
    case = make_case(assigned_to=u["id"])
    rule = make_rule(sag_id=case["id"], channels=chans)
    set_status(case["id"], "in_progress")
    set_status(case["id"], "on_hold")
    # Both in one rate window: ten minutes past the next hour.
    now = db_now()
    run_worker(offset=now.replace(minute=10, second=0, microsecond=0) + timedelta(hours=1) - now)
    return rule


def test_the_hourly_limit_holds_back_a_rate_limited_channel(app, recorder):
    clear_queue()
    u = make_user()
    rule = _two_changes_over_a_cap_of_one(u, ["recorder"])
    assert sorted(r["status"] for r in logs(rule_id=rule["id"])) == ["rate_limited", "sent"]
    assert len(recorder.delivered) == 1
    assert len(events(kind="held_back", target_user_id=u["id"])) == 1


def test_a_channel_outside_the_limit_is_not_held_back(app, recorder):
    clear_queue()
    recorder.rate_limited = False
    u = make_user()
    rule = _two_changes_over_a_cap_of_one(u, ["in_app", "recorder"])
    by_channel: dict[str, list[str]] = {}
    for r in logs(rule_id=rule["id"]):
        by_channel.setdefault(r["channel"], []).append(r["status"])
    assert sorted(by_channel["in_app"]) == ["rate_limited", "sent"]
    assert by_channel["recorder"] == ["sent", "sent"]
    assert len(recorder.delivered) == 2


@pytest.mark.parametrize("raise_instead", [False, True])
def test_failures_are_retried_and_do_not_delay_in_app(app, recorder, raise_instead):
    clear_queue()
    recorder.fail_next, recorder.raise_instead = 1, raise_instead
    u = make_user()
    _case, rule = _status_change(u, ["in_app", "recorder"])
    run_worker(retry_base_s=10)
    [ev] = events(reminder_id=rule["id"])
    assert ev["status"] == "pending" and ev["attempts"] == 1
    assert ("recorder is down" if raise_instead else "recorder refused") in ev["last_error"]
    assert _statuses(rule) == {"in_app": "sent", "recorder": "pending"}  # in-app went out at once
    [in_app] = logs(rule_id=rule["id"], channel="in_app")
    run_worker(offset=timedelta(seconds=11), retry_base_s=10)
    assert len(recorder.delivered) == 1
    assert _statuses(rule) == {"in_app": "sent", "recorder": "sent"}
    assert [r["id"] for r in logs(rule_id=rule["id"], channel="in_app")] == [in_app["id"]]  # not pushed twice
    assert events(reminder_id=rule["id"])[0]["status"] == "sent"


def test_a_channel_that_keeps_failing_fails_its_rows_when_the_event_gives_up(app, recorder):
    clear_queue()
    recorder.fail_next = 99
    u = make_user()
    _case, rule = _status_change(u, ["in_app", "recorder"])
    for seconds in (0, 2, 5):
        run_worker(offset=timedelta(seconds=seconds), max_attempts=2)
    [ev] = events(reminder_id=rule["id"])
    assert ev["status"] == "failed" and "recorder refused" in ev["last_error"]
    assert _statuses(rule) == {"in_app": "sent", "recorder": "failed"}


def test_an_event_kind_without_an_entry_in_the_table_is_failed_with_a_clear_error(app):
    clear_queue()
    u = make_user()
    [unknown] = database.execute_query(
        "INSERT INTO sag_reminder_queue (kind, target_user_id, scheduled_for) VALUES ('birthday', %s, now()) "
        "RETURNING id", (u["id"],))
    _case, rule = _status_change(u, ["in_app"])
    run_worker()
    [ev] = events(id=unknown["id"])
    assert ev["status"] == "failed"
    assert "unknown event kind 'birthday'" in ev["last_error"] and "kinds" in ev["last_error"]
    assert _statuses(rule) == {"in_app": "sent"}  # the rest of the batch went on


def test_my_reminders_filter_by_any_registered_channel(app, recorder):
    from fastapi.testclient import TestClient

    from tests.fixtures import token_for

    clear_queue()
    u = make_user()
    _case, rule = _status_change(u, ["in_app", "recorder"])
    run_worker()
    client = TestClient(app, headers={"Authorization": f"Bearer {token_for(u)}"})
    r = client.get("/api/v1/sag/reminders/mine", params={"channel": "recorder"})
    assert r.status_code == 200, r.text
    assert [i["channel"] for i in r.json()["items"]] == ["recorder"]
    assert client.get("/api/v1/sag/reminders/mine", params={"channel": "pager"}).status_code == 422
