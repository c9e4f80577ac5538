"""Scheduled backups: BACKUP_SCHEDULE (cron, in TIMEZONE) and BACKUP_KEEP, run by the workers.

Every worker process checks the schedule; each slot gets exactly one backup however many
workers run, because the slot is a unique key of `backup_runs`: the process whose insert
wins makes the backup, the others find the slot taken. A worker that starts after a missed
slot makes that (latest) slot's backup. A failed slot is not retried (the next slot is);
the failure shows on /admin/backups and in /metrics.
"""

from __future__ import annotations

import logging
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from croniter import croniter

from app.core import backup, database
from app.core.config import get_settings

log = logging.getLogger("app.core.backup")
CHECK_EVERY_S = 30.0  # longest sleep between two looks at the schedule (and the stop flag)


def slot_for(now: datetime, schedule: str, timezone: str) -> datetime:
    """The latest slot of `schedule` at or before `now`."""
    local = now.astimezone(ZoneInfo(timezone)).replace(microsecond=0) + timedelta(seconds=1)
    return croniter(schedule, local).get_prev(datetime)


def next_slot(now: datetime, schedule: str, timezone: str) -> datetime:
    return croniter(schedule, now.astimezone(ZoneInfo(timezone))).get_next(datetime)


def run_due(now: datetime | None = None) -> backup.BackupResult | None:
    """Make the current slot's backup unless some process has; None when there was nothing to do."""
    settings = get_settings()
    if not settings.backup_schedule:
        return None
    slot = slot_for(now or datetime.now(UTC), settings.backup_schedule, settings.timezone)
    database.execute_update(backup.Q["interrupt_stale_runs"], {"stale_s": backup.TOOL_TIMEOUT_S})
    result = backup.backup(settings.backup_dir / f"bmc-hub-{slot:%Y%m%d-%H%M%S}.dump", slot=slot)
    if result is not None:
        prune(settings.backup_keep)
    return result


def prune(keep: int) -> list[Path]:
    """Delete this host's scheduled backup files beyond the newest `keep`; return them."""
    host = socket.gethostname()
    removed = []
    for row in database.execute_query(backup.Q["prunable_files"], {"keep": keep}):
        if row["process"].rsplit(":", 1)[0] != host:
            continue  # made on another machine: that machine's worker prunes it
        path = Path(row["file"])
        path.unlink(missing_ok=True)
        backup.manifest_path(path).unlink(missing_ok=True)
        database.execute_update(backup.Q["mark_pruned"], {"id": row["id"]})
        removed.append(path)
        log.info("pruned scheduled backup %s (BACKUP_KEEP=%d)", path, keep)
    return removed


def loop(stop: threading.Event) -> None:
    settings = get_settings()
    log.info("scheduled backups: %r (%s), keeping %d", settings.backup_schedule, settings.timezone,
             settings.backup_keep)
    last_slot = None
    while not stop.is_set():
        now = datetime.now(UTC)
        slot = slot_for(now, settings.backup_schedule, settings.timezone)
        if slot != last_slot:
            try:
                run_due(now)
                last_slot = slot
            except Exception:  # noqa: BLE001 - recorded in backup_runs; the loop goes on
                # Looked at again next round: a slot already taken (recorded as failed) is a no-op.
                log.exception("scheduled backup for %s failed", slot)
        wait = (next_slot(now, settings.backup_schedule, settings.timezone) - now).total_seconds()
        stop.wait(min(max(wait, 0.5), CHECK_EVERY_S))


def start(stop: threading.Event) -> threading.Thread | None:
    """Start the schedule in a thread when BACKUP_SCHEDULE is set (the worker calls this)."""
    if not get_settings().backup_schedule:
        return None
    thread = threading.Thread(target=loop, args=(stop,), name="backup-schedule", daemon=True)
    thread.start()
    return thread
