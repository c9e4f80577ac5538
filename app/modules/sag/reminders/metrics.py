"""The reminder figures for GET /metrics (module.json: "extensions": {"metrics": [...]}).

Read from the database at each scrape, so every replica reports the same queue, whatever
worker processed what. The core calls `collect(conn)` with a read transaction.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from app.core.queries import load_queries

Q = load_queries(Path(__file__).parent / "queries" / "metrics.sql")
# Statuses an event is still on its way in (depth); the rest are outcomes (processed).
WAITING = ("inbox", "pending", "processing")
FINISHED = ("sent", "failed", "skipped", "cancelled")
KINDS = ("rule", "tick", "snooze", "repeat", "digest", "held_back")  # the queue's kind CHECK
CHANNELS = ("in_app", "email")


def collect(conn) -> list[Metric]:
    depth = GaugeMetricFamily("bmc_reminder_queue_depth", "Reminder events waiting or being processed, "
                              "per status and kind", labels=["status", "kind"])
    processed = CounterMetricFamily("bmc_reminder_events_processed", "Reminder events finished, per outcome "
                                    "and kind", labels=["status", "kind"])
    # Every series exists from the start (zeros), so rates and alerts never see a gap.
    counts = {(status, kind): 0 for status in WAITING + FINISHED for kind in KINDS}
    for row in conn.execute(Q["queue_by_status"]).fetchall():
        counts[(row["status"], row["kind"])] = row["n"]
    for (status, kind), n in sorted(counts.items()):
        (depth if status in WAITING else processed).add_metric([status, kind], n)
    age = conn.execute(Q["oldest_due_age"]).fetchone()["age_s"]
    lag = GaugeMetricFamily("bmc_reminder_oldest_due_age_seconds", "How long the oldest due event has waited",
                            value=max(0.0, float(age)))
    outcomes = CounterMetricFamily("bmc_reminder_notifications", "Notifications per channel and outcome "
                                   "(sent, failed, pending, rate_limited, suppressed, deferred)",
                                   labels=["channel", "status"])
    delivered = {(channel, "sent"): 0 for channel in CHANNELS} | {(channel, "failed"): 0 for channel in CHANNELS}
    for row in conn.execute(Q["notifications_by_outcome"]).fetchall():
        delivered[(row["channel"], row["status"])] = row["n"]
    for (channel, status), n in sorted(delivered.items()):
        outcomes.add_metric([channel, status], n)
    held = sum(n for (_c, status), n in delivered.items() if status == "rate_limited")
    suppressed = sum(n for (_c, status), n in delivered.items() if status == "suppressed")
    retries = conn.execute(Q["email_retries"]).fetchone()["n"]
    return [
        depth, processed, lag, outcomes,
        CounterMetricFamily("bmc_reminder_held_back", "Notifications held back by the rate limit", value=held),
        CounterMetricFamily("bmc_reminder_suppressed", "Notifications suppressed (preferences, acknowledged)",
                            value=suppressed),
        CounterMetricFamily("bmc_reminder_email_retries", "Extra delivery attempts of events that send e-mail",
                            value=retries),
    ]
