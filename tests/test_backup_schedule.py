"""Scheduled backups (BACKUP_SCHEDULE, BACKUP_KEEP): one backup per slot whatever the number of
workers racing for it, old files pruned, and a failure shown on /admin/backups and in the API."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from app.core import backup_schedule, database
from app.core.config import reset_settings
from tests.fixtures import login, make_user

SCHEDULE = "0 3 * * *"
ZONE = "Europe/Copenhagen"


@pytest.fixture
def scheduled(monkeypatch, tmp_path):
    monkeypatch.setenv("BACKUP_SCHEDULE", SCHEDULE)
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv("BACKUP_KEEP", "2")
    reset_settings()
    database.execute_update("DELETE FROM backup_runs")
    yield tmp_path / "backups"
    reset_settings()


def test_the_slot_is_the_latest_cron_time_in_the_hub_time_zone():
    at_three = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 03:00 in Copenhagen (CET)
    assert backup_schedule.slot_for(at_three, SCHEDULE, ZONE) == at_three
    assert backup_schedule.slot_for(at_three - timedelta(seconds=1), SCHEDULE, ZONE) == at_three - timedelta(days=1)
    assert backup_schedule.next_slot(at_three, SCHEDULE, ZONE) == at_three + timedelta(days=1)


def test_two_workers_racing_make_one_backup_per_slot(scheduled):
    now = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    start = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            start.wait()
            results.append(backup_schedule.run_due(now))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    made = [r for r in results if r is not None]
    assert len(made) == 1 and results.count(None) == 1
    assert sorted(p.name for p in scheduled.iterdir()) == ["bmc-hub-20260310-030000.dump",
                                                           "bmc-hub-20260310-030000.dump.manifest.json"]
    rows = database.execute_query("SELECT slot, status FROM backup_runs")
    assert rows == [{"slot": datetime(2026, 3, 10, 2, 0, tzinfo=UTC), "status": "ok"}]
    # Later in the same slot (a worker restarting): nothing to do.
    assert backup_schedule.run_due(now + timedelta(hours=5)) is None


def test_backup_keep_prunes_the_oldest_scheduled_files(scheduled):
    first = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    paths = [backup_schedule.run_due(first + timedelta(days=d)).path for d in range(3)]
    assert not paths[0].exists() and paths[1].exists() and paths[2].exists()
    pruned = database.execute_query("SELECT file FROM backup_runs WHERE pruned_at IS NOT NULL")
    assert pruned == [{"file": str(paths[0].resolve())}]


def test_a_failed_scheduled_backup_shows_on_the_admin_page(scheduled, client):
    scheduled.parent.mkdir(exist_ok=True)
    scheduled.write_text("a file where the backup directory should be")
    with pytest.raises(Exception):  # noqa: B017 - whatever the OS says; the record is what matters
        backup_schedule.run_due(datetime(2026, 3, 12, 9, 0, tzinfo=UTC))
    row = database.execute_query("SELECT status, error FROM backup_runs")[0]
    assert row["status"] == "failed" and row["error"]
    admin = make_user("admin")
    login(client, admin)
    page = client.get("/admin/backups")
    assert page.status_code == 200
    assert "1 backup failed since the last good one." in page.text and row["error"][:40] in page.text
    assert client.get("/api/v1/backups").json()["failed_since_ok"] == 1


def test_an_invalid_backup_schedule_is_refused_with_a_clear_message():
    from pydantic import ValidationError

    from app.core.config import Settings

    with pytest.raises(ValidationError, match="not a cron expression: 'every night'"):
        Settings(backup_schedule="every night")
    assert Settings(backup_schedule="  ").backup_schedule is None
