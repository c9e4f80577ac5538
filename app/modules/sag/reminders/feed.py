"""The sag module's feed for the core's live notifications (`app.core.realtime`), named
in module.json (`"feed"`): the host hands it to the core while the module is enabled.

The reminder worker's log trigger sends `{"user_id", "log_id", "event"}`; this turns it into
what the browser's toast needs (case number and title, texts, priority, state, link) with
the user's unread count, and lists what a reconnecting stream missed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core import database
from app.core.queries import load_queries

Q = load_queries(Path(__file__).parent / "queries" / "ui.sql")

ACTIONS_API = "/api/v1/sag/reminders/mine"
LIST_URL = "/sag/reminders"
# A page opened after a long absence shows at most this many missed toasts (the rest: "and n more"
# from the bell and the list), and none older than this.
BACKLOG_LIMIT = 50
BACKLOG_MAX_AGE_H = 7 * 24


def case_url(sag_id: int | None) -> str:
    return f"/sag/{sag_id}" if sag_id else LIST_URL


def shape(row: dict[str, Any]) -> dict[str, Any]:
    """A log row as the browser gets it (times as ISO strings)."""
    out = dict(row)
    out["case_number"] = f"#{row['sag_id']}" if row.get("sag_id") else ""
    out["case_title"] = row.get("case_title") or ""
    out["url"] = case_url(row.get("sag_id"))
    # Snoozing brings a rule's reminder back; a mention, watched-case news or a summary has no rule.
    out["snoozable"] = row.get("rule_id") is not None and row.get("sag_id") is not None
    if row.get("group_size"):
        out["url"] = f"{LIST_URL}?group={row['id']}"  # "Open list": the grouped cases
    for key, value in out.items():
        if hasattr(value, "isoformat"):
            out[key] = value.isoformat()
    return out


class ReminderFeed:
    def load(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        try:
            log_id, user_id = int(payload["log_id"]), int(payload["user_id"])
        except (KeyError, TypeError, ValueError):
            return None
        rows = database.execute_query(Q["read_event"], {"log_id": log_id, "user_id": user_id})
        if not rows:
            return None
        event = shape(rows[0])
        kind = payload.get("event", "update")
        # Only a delivered in-app row pops up; anything else just updates state and count.
        if kind == "reminder" and not (event["channel"] == "in_app" and event["status"] == "sent"):
            kind = "update"
        event["event"] = kind
        return event

    def backlog(self, user_id: int, after_id: int | None) -> list[dict[str, Any]]:
        rows = database.execute_query(Q["read_backlog"], {
            "user_id": user_id, "after_id": after_id, "limit": BACKLOG_LIMIT, "max_age_h": BACKLOG_MAX_AGE_H})
        return [shape(r) for r in rows]

    def unread_count(self, user_id: int) -> int:
        return database.execute_query(Q["count_unread"], {"user_id": user_id})[0]["n"]


# module.json "feed": the host registers it while the module is enabled.
feed = ReminderFeed()
