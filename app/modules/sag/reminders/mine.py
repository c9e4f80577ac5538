"""A user's own reminders: list, unread count, and interactions (seen, clicked, dismiss,
acknowledge, snooze). Used by the API and by the e-mail action links."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from app.core import database
from app.core.config import get_settings
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.queries import load_queries

Q = load_queries(Path(__file__).parent / "queries" / "mine.sql")
ACTIONS = ("seen", "clicked", "dismiss", "acknowledge")
SNOOZE_PRESETS = ("1h", "1d", "tomorrow_08")
MAX_SNOOZE = timedelta(days=30)
MIN_SNOOZE = timedelta(minutes=1)
MAX_BULK_IDS = 500
TOMORROW_HOUR = 8


def log_json(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape of a log row (shared with the browser side)."""
    out = dict(row)
    out.pop("total", None)
    out["url"] = f"/sag/{row['sag_id']}" if row.get("sag_id") else "/sag/reminders"
    return out


def list_mine(user_id: int, *, unread: bool = False, snoozed: bool = False, rate_limited: bool = False,
              sag_id: int | None = None, channel: str | None = None, status: str | None = None,
              since_id: int | None = None, limit: int = 50, offset: int = 0,
              log_id: int | None = None, kind: str | None = None,
              group_id: int | None = None) -> tuple[list[dict[str, Any]], int]:
    rows = database.execute_query(Q["read_my_logs"], {
        "user_id": user_id, "log_id": log_id, "unread": unread, "snoozed": snoozed,
        "rate_limited": rate_limited, "sag_id": sag_id, "channel": channel, "status": status,
        "since_id": since_id, "kind": kind, "group_id": group_id, "limit": limit, "offset": offset})
    total = rows[0]["total"] if rows else 0
    return [log_json(r) for r in rows], total


def read_mine(user_id: int, log_id: int) -> dict[str, Any]:
    rows, _ = list_mine(user_id, log_id=log_id, limit=1)
    if not rows:
        raise NotFound("reminder %(id)s not found", id=log_id)
    return rows[0]


def unread_count(user_id: int) -> int:
    return database.execute_query(Q["count_unread"], {"user_id": user_id})[0]["unread"]


def mark(user_id: int, ids: list[int], action: str) -> list[int]:
    """Apply `action` to the user's own rows among `ids`; returns the ids changed."""
    if action not in ACTIONS:
        raise ValidationFailed("action must be one of %(actions)s or snooze", field="action",
                               actions=", ".join(ACTIONS))
    with database.transaction():
        changed = [r["id"] for r in database.execute_query(
            Q["mark_logs"], {"user_id": user_id, "ids": ids, "action": action})]
        if action == "acknowledge" and changed:
            database.execute_update(Q["cancel_user_snoozes"], {"user_id": user_id, "ids": ids})
    return changed


def user_zone(user_id: int) -> ZoneInfo:
    """The user's time zone; a missing or bad stored zone falls back to the hub's."""
    rows = database.execute_query(Q["user_timezone"], {"user_id": user_id})
    try:
        return ZoneInfo(rows[0]["timezone"] if rows and rows[0]["timezone"] else get_settings().timezone)
    except Exception:  # noqa: BLE001 - a bad stored zone falls back to the hub's
        return ZoneInfo(get_settings().timezone)


def snooze_until(user_id: int, *, until: str | datetime | None = None, preset: str | None = None,
                 now: datetime | None = None) -> datetime:
    """The time a snooze ends: an explicit time, or a preset (1h, 1d, tomorrow 08:00 in the user's zone)."""
    now = now or datetime.now(UTC)
    if (until is None) == (preset is None):
        raise ValidationFailed("give either 'until' (ISO date-time) or 'preset'", field="until")
    if preset is not None:
        if preset == "1h":
            return now + timedelta(hours=1)
        if preset == "1d":
            return now + timedelta(days=1)
        if preset == "tomorrow_08":
            zone = user_zone(user_id)
            local = now.astimezone(zone)
            target = datetime.combine(local.date() + timedelta(days=1), time(TOMORROW_HOUR), tzinfo=zone)
            return target.astimezone(UTC)
        raise ValidationFailed("preset must be one of %(presets)s", field="preset", presets=", ".join(SNOOZE_PRESETS))
    if isinstance(until, str):
        from app.modules.sag.reminders.rules import parse_when

        # Without an offset: the user's own zone, as the cases API reads a deadline.
        when = parse_when(until, "until", user_zone(user_id).key)
    else:
        when = until
    if when < now + MIN_SNOOZE:
        raise ValidationFailed("until must be at least a minute in the future", field="until")
    if when > now + MAX_SNOOZE:
        raise ValidationFailed("a reminder can be snoozed for at most 30 days", field="until")
    return when


def snooze(user_id: int, ids: list[int], until: datetime) -> list[int]:
    """Snooze the user's rows; one new event per reminder brings it back at `until`."""
    with database.transaction():
        changed = [r["id"] for r in database.execute_query(
            Q["snooze_logs"], {"user_id": user_id, "ids": ids, "until": until})]
        if changed:
            database.execute_update(Q["queue_snoozes"], {"user_id": user_id, "ids": ids, "until": until})
    return changed


def own_log(user_id: int, log_id: int) -> dict[str, Any]:
    rows = database.execute_query(Q["read_log_owner"], {"id": log_id})
    if not rows or rows[0]["user_id"] != user_id:
        raise NotFound("reminder %(id)s not found", id=log_id)
    return rows[0]


def snooze_one(user_id: int, log_id: int, until: datetime) -> None:
    row = own_log(user_id, log_id)
    if row["rule_id"] is None or row["sag_id"] is None:
        raise Conflict("This notice is a summary and cannot be snoozed")
    snooze(user_id, [log_id], until)
