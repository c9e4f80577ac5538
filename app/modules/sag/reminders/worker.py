"""The reminder worker: the sag module's background job `run(stop)`.

Loop: process one batch; unless it was full, sleep until the next due event or lease
expiry (not at all when something is due already), or until a NOTIFY on
`sag_reminder_queue` (sent by the queue's insert trigger) wakes it. Any number of workers,
in any number of processes, may run against one database: claiming uses FOR UPDATE SKIP
LOCKED and a lease.

`ReminderWorker(offset=timedelta(days=1))` sees the database clock plus that offset as
"now" (tests and demos run time forward without sleeping).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import timedelta

import psycopg

from app.core import database
from app.modules.sag.reminders import channels, daily_digest
from app.modules.sag.reminders.engine import Options, Outcome, Q, process_batch
from app.modules.sag.reminders.events import alone

log = logging.getLogger("app.modules.sag")
CHANNEL = "sag_reminder_queue"
MAX_IDLE_S = 1.0           # longest sleep between checks of the stop flag and the clock
RECONNECT_PAUSE_S = 2.0
PURGE_EVERY_BATCHES = 1000  # how often old rate-limit windows are deleted


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class ReminderWorker:
    def __init__(self, *, offset: timedelta = timedelta(0), worker_id: str | None = None,
                 digest_every_s: float = daily_digest.DIGEST_CHECK_S, **options) -> None:
        self.opts = Options.from_settings(worker_id or new_worker_id(), offset=offset, **options)
        self.digest_every_s = digest_every_s  # how often run_once looks for due daily digests
        self.next_digest_check = 0.0
        self.digests_sent = 0
        self.conn: psycopg.Connection | None = None
        self.listen_conn: psycopg.Connection | None = None
        self.batches = 0

    # --- connections -----------------------------------------------------------------
    def _connect(self) -> None:
        self.close()
        self.conn = database.connect()
        # The worker runs the same few statements forever: prepare them at once. (Generic
        # plans only for small batches, plans.py: with the batch arrays as unknowns they are
        # slower for large ones.)
        self.conn.prepare_threshold = 0
        self.conn.execute("SET TIME ZONE 'UTC'")
        self.conn.commit()
        self.listen_conn = database.connect(autocommit=True)
        self.listen_conn.execute(f"LISTEN {CHANNEL}")
        # Resolve the channel registry (and, outside an app or worker, the process's module
        # host) now: the registry is read again per batch, but the first batch should not pay
        # for loading the modules.
        channels.registry()
        channels.warm_up()  # (the e-mail templates and skeletons, once per process)

    def close(self) -> None:
        for c in (self.conn, self.listen_conn):
            if c is not None:
                try:
                    c.close()
                except Exception:  # noqa: BLE001
                    pass
        self.conn = self.listen_conn = None

    # --- one unit of work ------------------------------------------------------------
    def run_once(self) -> Outcome:
        """Claim and process one batch; `.claimed` is 0 when nothing was due."""
        if self.conn is None:
            self._connect()
        out = process_batch(self.conn, self.opts)
        self.batches += 1
        if time.monotonic() >= self.next_digest_check:
            self.next_digest_check = time.monotonic() + self.digest_every_s
            self.send_digests()
        if self.batches % PURGE_EVERY_BATCHES == 0:
            with self.conn.transaction():
                self.conn.execute(Q["purge_rate_windows"], {"now": out_now(self.conn, self.opts.offset)})
        if out.claimed:
            handed = ", ".join(f"{n} {name}" for name, n in sorted(out.handed_over.items())) or "none"
            log.info("reminders: claimed %d, wrote %d log rows (%d delivered), handed over: %s, %d skipped, "
                     "%d retried, %d failed", out.claimed, out.written, out.delivered, handed, out.skipped,
                     out.retried, out.failed)
        return out

    def send_digests(self) -> int:
        """The other unit of work: the daily digests due now (daily_digest.py); returns how many went out."""
        if self.conn is None:
            self._connect()
        with self.conn.transaction():
            now = out_now(self.conn, self.opts.offset)
        # Each claim is committed before its e-mail is sent (run_due's own transactions).
        sent = daily_digest.run_due(self.conn, self.opts, now)
        self.digests_sent += sent
        if sent:
            log.info("reminders: sent %d daily digest(s)", sent)
        return sent

    def drain(self, max_batches: int = 10_000) -> int:
        """Process batches until nothing is due (tests, scripts); returns events claimed."""
        total = 0
        for _ in range(max_batches):
            n = self.run_once().claimed
            if not n:
                break
            total += n
        return total

    def wait_for_work(self, stop: threading.Event) -> None:
        wait = alone(self.conn, Q["seconds_until_due"], {"offset": self.opts.offset}).fetchone()["wait_s"]
        timeout = MAX_IDLE_S if wait is None else max(0.0, min(MAX_IDLE_S, wait))
        if timeout <= 0 or stop.is_set():
            return
        for _ in self.listen_conn.notifies(timeout=timeout, stop_after=1):
            pass

    def run(self, stop: threading.Event) -> None:
        log.info("reminder worker %s started", self.opts.worker_id)
        try:
            while not stop.is_set():
                try:
                    if self.conn is None:
                        self._connect()
                    # A full batch may have left more due: claim again at once. After a smaller
                    # one, seconds_until_due knows whether anything came since (it answers 0),
                    # one statement instead of an empty claim before every sleep.
                    if self.run_once().claimed >= self.opts.batch_size:
                        continue
                    self.wait_for_work(stop)
                except psycopg.OperationalError as exc:
                    log.warning("reminder worker lost the database (%s); reconnecting", type(exc).__name__)
                    self.close()
                    stop.wait(RECONNECT_PAUSE_S)
        finally:
            self.close()
            log.info("reminder worker %s stopped", self.opts.worker_id)


def out_now(conn: psycopg.Connection, offset: timedelta):
    return conn.execute("SELECT clock_timestamp() + %s AS now", (offset,)).fetchone()["now"]


def run(stop: threading.Event) -> None:
    """The job declared in module.json."""
    ReminderWorker().run(stop)
