"""The reminder engine: what happens to a batch of queued events, step by step.

    process_batch
      claim        one statement claims due (and lease-expired) events with their rule and case
      gather       (storms.py) firings of the batch's rules due within their grouping window are
                   pulled forward and claimed with it
      sort_out     per event, from the kinds table (kinds.py): give up after too many attempts,
                   fail an unknown kind, skip (rule or case gone ...), set aside kinds with a
                   handler of their own, render the rest (title, message)
      write_logs   resolve recipients, reserve the hourly limit, write one log row per recipient
                   and channel (preferences, quiet hours, the limit, per the channels' flags;
                   channels/__init__.py); an event with nothing left to hand over is done here;
                   storms found above become one group row per user and channel (storms.py)
      hand_over    each channel whose rows are `pending` (e-mail) gets them in chunks, the
                   lease renewed before each; a failed row keeps its event for a retry
      close        finish, skip, fail or retry the events, in one transaction
      own kinds    ticks, digests, held-back notices, grouped e-mails, one by one (kinds.py,
                   summaries.py, storms.py)

Nothing here knows a channel or a kind by name: both come from their tables.
"""

from __future__ import annotations

import json
import logging
import operator
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from app.core import i18n
from app.modules.sag.reminders import channels, kinds, plans, storms
from app.modules.sag.reminders.email import speaking
from app.modules.sag.reminders.events import Outcome, Q, alone, close, error_text, finish, in_transaction, retry
from app.modules.sag.reminders.render import ReminderTemplateError
from app.modules.sag.reminders.tunables import tunables

__all__ = ["Options", "Outcome", "Q", "process_batch"]

log = logging.getLogger("app.modules.sag")
DEADLOCK_RETRIES = 3
# hand_over renews the batch's lease before a chunk once this share of it has passed since it
# was set; before that no other worker can have taken the batch over (a renewal is an update of
# every event of the batch, as dear as writing their log rows).
LEASE_RENEW_AFTER = 0.5
NO_OUTCOME = "the channel reported no outcome for this row"
# The case details a pending row carries to its channel (read_pending_rows' columns), which the
# batch's claim (claim_batch) already read under the same names.
CASE_FIELDS = ("case_title", "description", "status", "status_label", "status_label_da", "case_priority",
               "deadline", "customer_name", "assignee_name", "trigger_type")
_case_fields = operator.itemgetter(*CASE_FIELDS)


@dataclass
class Options:
    # Values come from sag's declared settings (reminders/tunables.py), overridable per worker.
    worker_id: str
    batch_size: int
    lease_s: float
    max_attempts: int
    retry_base_s: float
    retry_max_s: float
    default_max_per_hour: int
    offset: timedelta = timedelta(0)
    lease_renew_after: float = LEASE_RENEW_AFTER  # 0: renew before every chunk handed over

    @classmethod
    def from_settings(cls, worker_id: str, **overrides: Any) -> Options:
        t = tunables()
        values = dict(batch_size=t["reminder_batch_size"], lease_s=t["reminder_lease_s"],
                      max_attempts=t["reminder_max_attempts"], retry_base_s=t["reminder_retry_base_s"],
                      retry_max_s=t["reminder_retry_max_s"], default_max_per_hour=t["reminder_max_per_hour"])
        values.update(overrides)
        return cls(worker_id=worker_id, **values)


@dataclass
class Firing:
    """A rendered event on the batch path."""

    event_id: int
    title: str
    message: str
    escalate: bool
    waits: bool  # has a channel whose rows are handed over after the write
    # A hub-made text per recipient language ({"da": (title, message), "en": ..., "": hub's}); None:
    # `title`/`message` for everyone (a rule's texts are its author's).
    localized: dict[str, tuple[str, str]] | None = None


def process_batch(conn: psycopg.Connection, opts: Options) -> Outcome:
    """Claim and process one batch on `conn` (a dedicated connection). Returns what happened."""
    leased_at = time.monotonic()  # before the claim: the lease it sets runs from later than this
    rows = claim(conn, opts)
    if rows and storms.gather(conn, rows):
        rows += claim(conn, opts)  # the firings pulled forward into the grouping window
    out = Outcome(claimed=len(rows))
    if not rows:
        return out
    plans.fit(conn, len(rows))  # an idle worker's single event must not pay for planning (plans.py)
    now: datetime = rows[0]["now"]
    # Chat and webhook destinations (`dest:<slug>`) are read only when a claimed rule names one.
    registry = channels.registry(conn, {n for r in rows for n in (r["channels"] or ())})
    firings, own = sort_out(rows, registry, opts, out)
    try:
        storm_sets = storms.find(rows, {f.event_id for f in firings}) if len(firings) > 1 else {}
        waiting = write_logs(conn, firings, registry, now, opts, out, storm_sets) if firings else []
        failed = (hand_over(conn, waiting, registry, now, opts, out, leased_at, {r["id"]: r for r in rows})
                  if waiting else {})
        if waiting or out.closed:  # (in-app rows only: deliver_batch finished the events already)
            with conn.transaction():
                finish(conn, [e for e in waiting if e not in failed], now)
                close(conn, out.closed, now)
                retry(conn, failed, now, opts, out)
    except Exception as exc:  # noqa: BLE001 - a batch-wide failure goes back to the queue with its error
        log.exception("reminder batch failed")
        conn.rollback()
        own_ids = {row["id"] for _kind, row in own}
        with conn.transaction():
            retry(conn, {r["id"]: error_text(exc) for r in rows if r["id"] not in own_ids}, now, opts, out)
    out.skipped = sum(1 for c in out.closed if c[1] == "skipped")
    out.failed += sum(1 for c in out.closed if c[1] == "failed")
    for kind, row in own:
        run_handler(conn, kind, row, now, opts, out)
    return out


def claim(conn: psycopg.Connection, opts: Options) -> list[dict[str, Any]]:
    return alone(conn, Q["claim_batch"], {"worker": opts.worker_id, "limit": opts.batch_size,
                                          "lease_s": opts.lease_s, "offset": opts.offset}).fetchall()


def sort_out(rows: list[dict[str, Any]], registry: dict[str, channels.Channel], opts: Options,
             out: Outcome) -> tuple[list[Firing], list[tuple[kinds.Kind, dict[str, Any]]]]:
    """Decide each event's path; closed ones go to `out.closed` as (id, status, reason)."""
    firings: list[Firing] = []
    own: list[tuple[kinds.Kind, dict[str, Any]]] = []
    for row in rows:
        kind = kinds.kind_of(row)
        if row["attempts"] > opts.max_attempts:
            out.closed.append((row["id"], "failed",
                               f"gave up after {opts.max_attempts} attempts (worker crashed or timed out)"))
        elif kind is None:
            out.closed.append((row["id"], "failed", f"unknown event kind {kinds.key_of(row)!r}: "
                                                    "it has no entry in the kinds table (reminders/kinds.py)"))
        elif reason := kind.skip(row):
            out.closed.append((row["id"], "skipped", reason))
        elif kind.handler is not None:
            own.append((kind, row))
        else:
            try:
                title, message = kind.render(row)
            except ReminderTemplateError as exc:
                out.closed.append((row["id"], "failed", error_text(f"template error: {exc}")))
                continue
            except Exception as exc:  # noqa: BLE001 - one event that cannot be rendered fails alone
                out.closed.append((row["id"], "failed", error_text(f"could not render: {type(exc).__name__}: {exc}")))
                continue
            names = row["channels"] or ()
            if any(n not in registry for n in names):
                log.warning("reminder event %s: rule %s names channel(s) %s that are not available", row["id"],
                            row["reminder_id"], ", ".join(n for n in names if n not in registry))
            firings.append(Firing(row["id"], title, message, kind.escalates(row),
                                  any(registry[n].pending for n in names if n in registry)))
    return firings, own


def write_logs(conn: psycopg.Connection, firings: list[Firing], registry: dict[str, channels.Channel],
               now: datetime, opts: Options, out: Outcome,
               storm_sets: dict[int, storms.Storm] | None = None) -> list[int]:
    """Reserve the rate limit (short transaction), then write every log row (second transaction).

    Both halves are one CALL (functions/sag_reminder_write_batch.sql), one round trip: the
    destinations (recipients x channels, with preferences and quiet hours) are evaluated once,
    by the reservation, and handed to the write inside the server.

    Reserving in a transaction of its own keeps the per-user counter rows locked for
    milliseconds, so workers do not queue behind each other's log writes. The grants are
    recorded on the events, so a batch taken over after a crash between the two neither counts
    twice nor pushes more (and a CALL run again after a deadlock neither).
    A batch with storms to group runs the halves as two statements (the write, the hold and the
    grouping must share one transaction), and so does a caller already inside a transaction (the
    CALL commits, which only a statement outside a transaction block may do).
    Returns the events whose rows still wait for a transport; the others are finished here.
    """
    params = {"ids": array_literal(f.event_id for f in firings),
              "escalate": array_literal("t" if f.escalate else "f" for f in firings),
              "now": now, "default_max": opts.default_max_per_hour, "channels": channels.sql_param(registry),
              # JSON, not text arrays: psycopg quotes text array elements one by one in Python.
              "texts": json.dumps([(f.event_id, f.title, f.message) for f in firings]),
              "escalated_prefixes": escalated_prefixes(),
              "localized": json.dumps({str(f.event_id): f.localized for f in firings if f.localized}),
              "finish_ids": array_literal(f.event_id for f in firings if not f.waits)}
    if storm_sets or in_transaction(conn):
        params["destinations"] = deadlock_retried(lambda: alone(conn, Q["reserve_rate"], params))["destinations"]
        with conn.transaction():
            if storm_sets:
                storms.hold(conn, storm_sets)  # no push per row: grouped below, in this transaction
            result = conn.execute(Q["deliver_batch"], params).fetchone()
            if storm_sets:
                storms.group(conn, storm_sets, now)
    else:
        result = deadlock_retried(lambda: alone(conn, Q["write_batch"], params))
    out.written, out.delivered = result["written"], result["delivered"]
    return [f.event_id for f in firings if f.waits]


def deadlock_retried(run: Callable[[], psycopg.Cursor]) -> dict[str, Any]:
    """The one row of a statement that is a transaction (or two) by itself, run again after a deadlock
    or serialization failure with another worker (DEADLOCK_RETRIES times in all)."""
    for _ in range(DEADLOCK_RETRIES - 1):
        try:
            return run().fetchone()
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
            pass
    return run().fetchone()


def array_literal(values: Iterable[int | str]) -> str:
    """A batch's ids or flags as a PostgreSQL array literal, for a `::bigint[]` / `::boolean[]` cast: psycopg
    dumps a list element by element in Python (a regex search each), this is one join."""
    return "{" + ",".join(map(str, values)) + "}"


def text_array(values: Iterable[str | None]) -> str | list[str | None]:
    """Outcomes for a `::text[]` cast: all NULL (every row sent, the usual case) as one literal,
    anything else as the list (psycopg quotes each text)."""
    values = list(values)
    if any(v is not None for v in values):
        return values
    return "{" + ",".join(["NULL"] * len(values)) + "}"


def escalated_prefixes() -> str:
    """What an escalated reminder's title starts with, per recipient language ("" = the hub's), as
    the JSON object deliver_batch reads: each row is written in its recipient's language."""
    prefixes = {}
    for language in i18n.LANGUAGES:
        with speaking(language):
            prefixes[language] = i18n.gettext("Escalated:")
    prefixes[""] = prefixes.get(i18n.default_language(), "Escalated:")
    return json.dumps(prefixes)


def hand_over(conn: psycopg.Connection, event_ids: list[int], registry: dict[str, channels.Channel],
              now: datetime, opts: Options, out: Outcome, leased_at: float | None = None,
              claimed: dict[int, dict[str, Any]] | None = None) -> dict[int, str]:
    """Give each channel whose rows wait its pending rows; returns {event id: error} for events to retry.

    `claimed`: the events' claim rows ({event id: row}), when the caller has them: the rows' case
    details (CASE_FIELDS) are then taken from them rather than joined again for every row.

    Rows go in chunks, the lease renewed before each once `opts.lease_renew_after` of it has passed
    (`leased_at`: time.monotonic() before the lease was set; None: renew before every chunk): a
    slow transport must not let another worker take the batch over and send the same rows again.
    A chunk's outcome is recorded before the next, so a retry hands over only what did not go out.
    """
    ctx = channels.DeliveryContext(now=now, worker_id=opts.worker_id)
    failed: dict[int, str] = {}
    for channel in registry.values():
        if not channel.pending:
            continue
        rows = read_pending(conn, event_ids, channel.name, claimed)
        step = max(1, channel.chunk_size)
        for start in range(0, len(rows), step):
            chunk = rows[start:start + step]
            if leased_at is None or time.monotonic() - leased_at >= opts.lease_s * opts.lease_renew_after:
                renewing = time.monotonic()
                with conn.transaction():
                    owned = {r["id"] for r in conn.execute(Q["renew_lease"], {
                        "ids": sorted({r["event_id"] for r in rows[start:]}), "offset": opts.offset,
                        "lease_s": opts.lease_s, "worker": opts.worker_id}).fetchall()}
                leased_at = renewing if leased_at is not None else None
                # An event another worker took over (our lease ran out) is now its job, not ours.
                chunk = [r for r in chunk if r["event_id"] in owned]
            if chunk:
                errors = deliver_chunk(conn, channel, chunk, ctx)
                out.handed_over[channel.name] += sum(1 for e in errors.values() if e is None)
                for row in chunk:
                    if errors[row["id"]] is not None:
                        failed.setdefault(row["event_id"], errors[row["id"]])
    return failed


def read_pending(conn: psycopg.Connection, event_ids: list[int], channel: str,
                 claimed: dict[int, dict[str, Any]] | None) -> list[dict[str, Any]]:
    """One channel's rows of these events still to hand over, each with the columns of
    read_pending_rows (what a channel's deliver() reads); the case details from `claimed` when given."""
    params = {"event_ids": array_literal(event_ids), "channel": channel}
    if claimed is None:
        with conn.transaction():
            return conn.execute(Q["read_pending_rows"], params).fetchall()
    with conn.transaction():
        rows = conn.execute(Q["read_pending_log_rows"], params).fetchall()
    details: dict[int, dict[str, Any]] = {}  # per event, shared by its recipients' rows
    for row in rows:
        found = details.get(event_id := row["event_id"])
        if found is None:
            found = details[event_id] = dict(zip(CASE_FIELDS, _case_fields(claimed[event_id]), strict=True))
        row.update(found)
    return rows


def deliver_chunk(conn: psycopg.Connection, channel: channels.Channel, chunk: list[dict[str, Any]],
                  ctx: channels.DeliveryContext) -> dict[int, str | None]:
    """One channel.deliver() call and its recorded outcome per row (None = sent)."""
    try:
        results = channel.deliver(conn, chunk, ctx)
    except Exception as exc:  # noqa: BLE001 - a failing channel fails its rows, not the batch
        log.exception("reminder channel %s failed", channel.name)
        results = dict.fromkeys((r["id"] for r in chunk), f"{type(exc).__name__}: {exc}")
    errors = {r["id"]: None if (e := results.get(r["id"], NO_OUTCOME)) is None else error_text(str(e))
              for r in chunk}
    with conn.transaction():
        conn.execute(Q["record_results"], {"ids": array_literal(errors), "errors": text_array(errors.values()),
                                           "now": ctx.now, "final": False})
    return errors


def run_handler(conn: psycopg.Connection, kind: kinds.Kind, row: dict[str, Any], now: datetime, opts: Options,
                out: Outcome) -> None:
    """A kind with a handler of its own (tick, digest, held back), one event at a time."""
    try:
        kind.handler(conn, row, now, opts, out)
    except Exception as exc:  # noqa: BLE001 - one bad summary or tick must not stop the worker
        log.exception("reminder event %s (%s) failed", row["id"], kind.key)
        conn.rollback()
        with conn.transaction():
            retry(conn, {row["id"]: error_text(exc)}, now, opts, out)
