"""Processing one claimed batch of reminder events, set-based.

Per batch: one statement claims the events (with rule and case), Python renders titles
and messages, one statement resolves recipients, applies acknowledgements, preferences,
quiet hours and the rate limit and writes every log row; then e-mails go out over one
SMTP connection and one statement per outcome closes the events. Ticks, digests and
held-back summaries are rare and handled one by one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from app.core import mail
from app.core.config import get_settings
from app.core.queries import load_queries
from app.modules.sag.reminders import email as reminders_email
from app.modules.sag.reminders.render import ReminderTemplateError, render_event
from app.modules.sag.reminders.rules import next_cron_run, parse_when

log = logging.getLogger("app.modules.sag")
Q = load_queries(Path(__file__).parent / "queries" / "worker.sql")
DEADLOCK_RETRIES = 3
EMAIL_CHUNK = 50  # e-mails sent between two lease renewals
ERROR_MAX_CHARS = 1000


@dataclass
class Options:
    worker_id: str
    batch_size: int
    lease_s: float
    offset: timedelta = timedelta(0)
    max_attempts: int = 5
    retry_base_s: float = 30.0
    retry_max_s: float = 3600.0
    default_max_per_hour: int = 30

    @classmethod
    def from_settings(cls, worker_id: str, **overrides: Any) -> Options:
        s = get_settings()
        values = dict(batch_size=s.reminder_batch_size, lease_s=s.reminder_lease_s,
                      max_attempts=s.reminder_max_attempts, retry_base_s=s.reminder_retry_base_s,
                      retry_max_s=s.reminder_retry_max_s, default_max_per_hour=s.reminder_max_per_hour)
        values.update(overrides)
        return cls(worker_id=worker_id, **values)


@dataclass
class Outcome:
    """What one batch did (returned for logs, tests and benchmarks)."""

    claimed: int = 0
    delivered: int = 0
    written: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    emails: int = 0
    closed: list[tuple[int, str, str]] = field(default_factory=list)


def _skip_reason(row: dict[str, Any]) -> str | None:
    if row["reminder_id"] is None or row["rule_active"] is None:
        return "rule deleted"
    if not row["rule_active"]:
        return "rule inactive"
    if row["sag_id"] is None or row["case_title"] is None:
        return "case deleted"
    status_event = row["trigger_type"] == "status_change" and row["kind"] in ("rule", "snooze")
    if row["closed_at"] is not None and not status_event:
        return "case closed"
    if row["kind"] == "rule" and row["trigger_type"] == "deadline":
        planned = (row["event_data"] or {}).get("deadline")
        if planned and (row["deadline"] is None or parse_when(planned, "deadline") != row["deadline"]):
            return "deadline changed"
    return None


def _escalates(row: dict[str, Any]) -> bool:
    occurrence = int((row["event_data"] or {}).get("occurrence", 1))
    return row["kind"] == "repeat" and row["escalate_after"] is not None and occurrence > row["escalate_after"]


def process_batch(conn: psycopg.Connection, opts: Options) -> Outcome:
    """Claim and process one batch on `conn` (a dedicated connection). Returns what happened."""
    with conn.transaction():
        rows = conn.execute(Q["claim_batch"], {"worker": opts.worker_id, "limit": opts.batch_size,
                                               "lease_s": opts.lease_s, "offset": opts.offset}).fetchall()
    out = Outcome(claimed=len(rows))
    if not rows:
        return out
    now: datetime = rows[0]["now"]
    items: list[dict[str, Any]] = []
    email_events: list[int] = []
    special: list[dict[str, Any]] = []
    for row in rows:
        if row["attempts"] > opts.max_attempts:
            out.closed.append((row["id"], "failed",
                               f"gave up after {opts.max_attempts} attempts (worker crashed or timed out)"))
            continue
        if row["kind"] in ("tick", "digest", "held_back"):
            special.append(row)
            continue
        reason = _skip_reason(row)
        if reason:
            out.closed.append((row["id"], "skipped", reason))
            continue
        try:
            title, message = render_event(row)
        except ReminderTemplateError as exc:
            out.closed.append((row["id"], "failed", f"template error: {exc}"[:ERROR_MAX_CHARS]))
            continue
        items.append({"e": row["id"], "t": title, "m": message, "x": _escalates(row)})
        if "email" in (row["channels"] or ()):
            email_events.append(row["id"])

    try:
        if items:
            with_email = set(email_events)
            no_email = [i["e"] for i in items if i["e"] not in with_email]
            result = _deliver(conn, items, no_email, now, opts)
            out.written, out.delivered = result["written"], result["delivered"]
        failed_events = _send_emails(conn, email_events, now, opts, out) if email_events else {}
        done = [e for e in email_events if e not in failed_events]
        with conn.transaction():
            if done:
                conn.execute(Q["finish_events"], {"ids": done, "now": now})
            if out.closed:
                _close(conn, out.closed, now)
            if failed_events:
                _retry(conn, failed_events, now, opts, out)
    except Exception as exc:  # noqa: BLE001 - a batch-wide failure goes back to the queue with its error
        log.exception("reminder batch failed")
        conn.rollback()
        ids = [r["id"] for r in rows if r not in special]
        with conn.transaction():
            _retry(conn, {i: f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS] for i in ids}, now, opts, out)
    out.skipped = sum(1 for c in out.closed if c[1] == "skipped")
    out.failed += sum(1 for c in out.closed if c[1] == "failed")
    for row in special:
        try:
            _process_special(conn, row, now, opts, out)
        except Exception as exc:  # noqa: BLE001 - one bad summary or tick must not stop the worker
            log.exception("reminder event %s (%s) failed", row["id"], row["kind"])
            conn.rollback()
            with conn.transaction():
                _retry(conn, {row["id"]: f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]}, now, opts, out)
    return out


def _deliver(conn: psycopg.Connection, items: list[dict], finish_ids: list[int], now: datetime,
             opts: Options) -> dict[str, int]:
    """Reserve the rate limit (short transaction), then write every log row (second transaction).

    Reserving on its own keeps the per-user counter rows locked for milliseconds, so workers
    do not queue behind each other's log writes. The grants are recorded on the events, so a
    batch taken over after a crash between the two neither counts twice nor pushes more.
    """
    params = {"ids": [i["e"] for i in items], "titles": [i["t"] for i in items],
              "messages": [i["m"] for i in items], "escalate": [i["x"] for i in items],
              "now": now, "default_max": opts.default_max_per_hour}
    for attempt in range(DEADLOCK_RETRIES):
        try:
            with conn.transaction():
                conn.execute(Q["reserve_rate"], params)
            break
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
            if attempt == DEADLOCK_RETRIES - 1:
                raise
    with conn.transaction():
        return conn.execute(Q["deliver_batch"], dict(params, finish_ids=finish_ids)).fetchone()


def _close(conn: psycopg.Connection, closed: list[tuple[int, str, str]], now: datetime) -> None:
    conn.execute(Q["close_events"], {"ids": [c[0] for c in closed], "statuses": [c[1] for c in closed],
                                     "reasons": [c[2] for c in closed], "now": now})


def _retry(conn: psycopg.Connection, errors: dict[int, str], now: datetime, opts: Options, out: Outcome) -> None:
    if not errors:
        return
    rows = conn.execute(Q["retry_events"], {
        "ids": list(errors), "errors": list(errors.values()), "now": now, "max_attempts": opts.max_attempts,
        "base_backoff_s": opts.retry_base_s, "max_backoff_s": opts.retry_max_s}).fetchall()
    gave_up = [r["id"] for r in rows if r["status"] == "failed"]
    out.retried += len(rows) - len(gave_up)
    out.failed += len(gave_up)
    if gave_up:
        conn.execute(Q["fail_pending_emails"], {"event_ids": gave_up, "now": now,
                                                "error": "gave up after the last attempt"})


def _send_emails(conn: psycopg.Connection, event_ids: list[int], now: datetime, opts: Options,
                 out: Outcome) -> dict[int, str]:
    """Send the batch's pending e-mails; returns {event id: error} for events to retry."""
    with conn.transaction():
        rows = conn.execute(Q["read_pending_emails"], {"event_ids": event_ids}).fetchall()
    if not rows:
        return {}
    errors: dict[int, str] = {}
    # In chunks, renewing the lease before each: a slow mail server must not let another
    # worker take the batch over and send the same e-mails again.
    for start in range(0, len(rows), EMAIL_CHUNK):
        with conn.transaction():
            owned = {r["id"] for r in conn.execute(Q["renew_lease"], {
                "ids": sorted({r["event_id"] for r in rows[start:]}), "offset": opts.offset,
                "lease_s": opts.lease_s, "worker": opts.worker_id}).fetchall()}
        # An event another worker took over (our lease ran out) is now its job, not ours.
        chunk = [r for r in rows[start:start + EMAIL_CHUNK] if r["event_id"] in owned]
        if not chunk:
            continue
        messages, built = [], []
        for row in chunk:
            try:
                messages.append(reminders_email.reminder_message(row))
                built.append(row)
            except Exception as exc:  # noqa: BLE001 - one unbuildable e-mail is recorded, the rest go out
                errors[row["id"]] = f"could not build e-mail: {type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]
        for row, err in zip(built, mail.send_messages(messages), strict=True):
            if err:
                errors[row["id"]] = err[:ERROR_MAX_CHARS]
        with conn.transaction():
            conn.execute(Q["record_email_results"], {"ids": [r["id"] for r in chunk],
                                                     "errors": [errors.get(r["id"]) for r in chunk],
                                                     "now": now, "final": False})
    out.emails += sum(1 for r in rows if r["id"] not in errors)
    failed: dict[int, str] = {}
    for row in rows:
        if row["id"] in errors:
            failed.setdefault(row["event_id"], errors[row["id"]])
    return failed


# --- rare kinds ----------------------------------------------------------------------------

def _process_special(conn: psycopg.Connection, row: dict[str, Any], now: datetime, opts: Options,
                     out: Outcome) -> None:
    if row["kind"] == "tick":
        _process_tick(conn, row, now, out)
    elif row["kind"] == "digest":
        _process_digest(conn, row, now, opts, out)
    else:
        _process_held_back(conn, row, now, out)


def _finish(conn: psycopg.Connection, event_id: int, now: datetime) -> None:
    conn.execute(Q["finish_events"], {"ids": [event_id], "now": now})


def _process_tick(conn: psycopg.Connection, row: dict[str, Any], now: datetime, out: Outcome) -> None:
    """Fan a time-based rule out to its cases, then set its next tick."""
    reason = None
    if row["reminder_id"] is None or row["rule_active"] is None:
        reason = "rule deleted"
    elif not row["rule_active"]:
        reason = "rule inactive"
    if reason:
        with conn.transaction():
            _close(conn, [(row["id"], "skipped", reason)], now)
        out.skipped += 1
        return
    cfg = row["trigger_config"] or {}
    with conn.transaction():
        prev = (row["event_data"] or {}).get("prev")
        conn.execute(Q["expand_tick"], {"tick_id": row["id"], "rule_id": row["reminder_id"], "now": now,
                                        "prev": prev})
        if row["trigger_type"] == "recurring":
            until = parse_when(cfg["until"], "until") if cfg.get("until") else None
            after = max(now, row["scheduled_for"])
            next_run = next_cron_run(cfg["cron"], cfg.get("timezone") or get_settings().timezone, after, until)
        elif row["trigger_type"] == "inactivity":
            next_run = conn.execute(Q["next_inactivity_run"],
                                    {"rule_id": row["reminder_id"], "now": now}).fetchone()["next_run_at"]
        else:
            next_run = None
        conn.execute(Q["advance_rule"], {"rule_id": row["reminder_id"], "now": now, "next_run_at": next_run})
        _finish(conn, row["id"], now)


def _summary_user(conn: psycopg.Connection, user_id: int | None, now: datetime) -> dict[str, Any] | None:
    if user_id is None:
        return None
    return conn.execute(Q["read_user_for_summary"], {"user_id": user_id, "now": now}).fetchone()


def _process_digest(conn: psycopg.Connection, row: dict[str, Any], now: datetime, opts: Options,
                    out: Outcome) -> None:
    """Quiet hours are over: what they deferred goes out as one e-mail.

    Preferences are read again now: an e-mail the user switched off meanwhile (the channel,
    or the trigger's override) is suppressed rather than sent.
    """
    with conn.transaction():
        user = _summary_user(conn, row["target_user_id"], now)
        rows = conn.execute(Q["read_deferred"], {"user_id": row["target_user_id"], "now": now}).fetchall()
    active = user is not None and user["active"]
    deferred = [d for d in rows if d["email_wanted"]] if active else []
    dropped = sorted({d["id"] for d in rows} - {d["id"] for d in deferred})
    if dropped:
        with conn.transaction():
            conn.execute(Q["mark_deferred_sent"], {"ids": dropped, "status": "suppressed", "now": now,
                                                   "error": "e-mail switched off" if active else "user inactive"})
    ids = [d["id"] for d in deferred]
    if not deferred:
        with conn.transaction():
            _finish(conn, row["id"], now)
        return
    n = len(deferred)
    msg = reminders_email.summary_message(
        to=user["email"], to_name=user["user_name"],
        title=f"{n} reminder{'s' if n != 1 else ''} from your quiet hours",
        intro="These reminders arrived during your quiet hours and were held until now.",
        items=[dict(d) for d in deferred])
    error = mail.send_message(msg)
    with conn.transaction():
        if error is None:
            conn.execute(Q["mark_deferred_sent"], {"ids": ids, "status": "sent", "now": now, "error": None})
            _finish(conn, row["id"], now)
            out.emails += 1
            return
        rows = conn.execute(Q["retry_events"], {
            "ids": [row["id"]], "errors": [error[:ERROR_MAX_CHARS]], "now": now, "max_attempts": opts.max_attempts,
            "base_backoff_s": opts.retry_base_s, "max_backoff_s": opts.retry_max_s}).fetchall()
        if rows and rows[0]["status"] == "failed":
            conn.execute(Q["mark_deferred_sent"], {"ids": ids, "status": "failed", "now": now,
                                                   "error": error[:ERROR_MAX_CHARS]})
            out.failed += 1
        else:
            out.retried += 1


def _process_held_back(conn: psycopg.Connection, row: dict[str, Any], now: datetime, out: Outcome) -> None:
    """The rate-limit window is over: one "n reminders held back" notice, outside the cap."""
    window_start = (row["event_data"] or {}).get("window_start")
    with conn.transaction():
        user = _summary_user(conn, row["target_user_id"], now)
        held = conn.execute(Q["read_held_back"], {"user_id": row["target_user_id"],
                                                  "window_start": window_start}).fetchall()
        if not held or user is None or not user["active"]:
            _finish(conn, row["id"], now)
            return
        n = len(held)
        title = f"{n} reminder{'s' if n != 1 else ''} held back"
        message = (f"You reached your limit of reminders per hour, so {n} reminder{'s were' if n != 1 else ' was'}"
                   " not pushed. They are in your reminder list:\n"
                   + "\n".join(f"- {h['title']}" for h in held[:reminders_email.SUMMARY_MAX_ITEMS]))
        if n > reminders_email.SUMMARY_MAX_ITEMS:
            message += f"\n… and {n - reminders_email.SUMMARY_MAX_ITEMS} more"
        channel = "in_app" if user["in_app_enabled"] or not user["email_enabled"] else "email"
        if channel == "email" and user["quiet_until"] is not None:
            # An e-mail summary respects quiet hours: it waits for their end, then is decided afresh.
            conn.execute(Q["postpone_event"], {"id": row["id"], "until": user["quiet_until"], "now": now})
            return
        status = "sent" if channel == "in_app" and user["in_app_enabled"] else \
            ("pending" if channel == "email" else "suppressed")
        conn.execute(Q["insert_summary_log"], {
            "event_id": row["id"], "user_id": user["id"], "email": user["email"] if channel == "email" else None,
            "channel": channel, "status": status, "title": title, "message": message[:5000], "now": now})
    if channel == "email" and status == "pending":
        msg = reminders_email.summary_message(to=user["email"], to_name=user["user_name"], title=title,
                                              intro="These reminders were held back by your hourly limit.",
                                              items=[dict(h) for h in held])
        error = mail.send_message(msg)
        with conn.transaction():
            conn.execute(Q["record_summary_email"], {"status": "sent" if error is None else "failed",
                                                     "error": error, "now": now, "event_id": row["id"]})
    with conn.transaction():
        _finish(conn, row["id"], now)
