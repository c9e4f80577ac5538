"""/admin/backups and GET /api/v1/backups: the backup history, failures first to the eye."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from app.core import backup, database
from app.core.config import get_settings
from app.core.deps import AdminUser
from app.core.templating import render

RECENT_RUNS = 30

pages = APIRouter(prefix="/admin/backups", include_in_schema=False)
api = APIRouter(prefix="/api/v1/backups", tags=["operations"])


def overview() -> dict[str, Any]:
    settings = get_settings()
    summary = database.execute_query(backup.Q["summary"])[0]
    return {"last_ok_at": summary["last_ok_at"], "failed_since_ok": summary["failed_since_ok"],
            "last_failed_at": summary["last_failed_at"],
            "schedule": settings.backup_schedule, "keep": settings.backup_keep,
            "directory": str(settings.backup_dir), "timezone": settings.timezone,
            "runs": database.execute_query(backup.Q["recent_runs"], {"limit": RECENT_RUNS})}


@api.get("")
def read_backups(admin: AdminUser) -> dict[str, Any]:
    """Last good backup, failures since, the schedule, and the latest runs (newest first)."""
    return overview()


@pages.get("")
async def backups_page(request: Request, admin: AdminUser):
    return render(request, "admin/backups.html", await run_in_threadpool(overview))
