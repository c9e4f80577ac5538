"""The reminder queue's state for admins: one definition for the API and the queue page.

Counts per status (status-change firings still in `sag_reminder_inbox`, not yet moved to the
queue, count as pending), the oldest due and next scheduled event, expired leases and last
hour's throughput: events the worker finished as `sent`, notifications delivered (log rows
`sent` or `pending`, i.e. handed to a channel) and notifications held back by the hourly limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core import database
from app.core.queries import load_queries

QA = load_queries(Path(__file__).parent / "queries" / "admin.sql")
QUEUE_STATUSES = ("pending", "processing", "sent", "failed", "cancelled", "skipped")


def queue_summary() -> dict[str, Any]:
    counts = dict.fromkeys(QUEUE_STATUSES, 0)
    for r in database.execute_query(QA["queue_counts"]):
        counts[r["status"]] = counts.get(r["status"], 0) + r["n"]
    overview = database.execute_query(QA["queue_overview"])[0]
    oldest = overview["oldest_due"]
    return {
        "counts": counts,
        "oldest_due": oldest,
        "oldest_due_age_s": (overview["now"] - oldest).total_seconds() if oldest else None,
        "next_due": overview["next_due"],
        "due_now": overview["due_now"],
        "expired_leases": overview["expired_leases"],
        "throughput_last_hour": {"events": overview["events_last_hour"],
                                 "notifications": overview["notifications_last_hour"],
                                 "rate_limited": overview["rate_limited_last_hour"]},
    }
