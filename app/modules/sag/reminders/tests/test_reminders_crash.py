"""A worker process killed with SIGKILL mid-batch loses nothing and duplicates nothing once another takes over.

The child is a real worker process. The test stops it at a chosen point with real database
locks (no code is patched): a SHARE lock on the log table holds it inside the delivery
statement; row locks on its claimed events hold it after delivery, before it closes them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg

from app.core import database, mail
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    events,
    logs,
    make_case,
    make_rule,
    run_worker,
)
from tests.fixtures import make_user

ROOT = Path(__file__).resolve().parents[5]
# lease_renew_after=0: the lease is renewed before each e-mail chunk however young, which is
# where a held row lock stops the worker between delivery and sending.
CHILD = ("from app.modules.sag.reminders.worker import ReminderWorker\n"
         "w = ReminderWorker(lease_s=1.0, batch_size=500, lease_renew_after=0)\n"
         "print('started', flush=True)\n"
         "w.run_once()\n")
WAIT_S = 60
CAP = 25


def _spawn() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@contextmanager
def _child_worker() -> Iterator[subprocess.Popen]:
    """A real worker process, killed on the way out if a test step failed before the test killed it."""
    child = _spawn()
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()


def _kill_while_blocked(child: subprocess.Popen, watch: psycopg.Connection) -> list[int]:
    """SIGKILL the worker while it waits on a lock; returns the pids of its (now orphaned) server backends."""
    orphans = _blocked_pids(watch)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    return orphans


def _wait_until_gone(watch: psycopg.Connection, orphans: list[int]) -> None:
    # the dead worker's server backend finds its client gone and rolls back
    _wait_until(lambda: _gone(watch, orphans), "the dead worker's backend to end")


def _wait_until(check, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _blocked_on_lock(conn: psycopg.Connection) -> bool:
    return bool(_blocked_pids(conn))


def _blocked_pids(conn: psycopg.Connection) -> list[int]:
    return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       "AND datname = current_database()").fetchall()]


def _gone(conn: psycopg.Connection, pids: list[int]) -> bool:
    return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)).fetchone()[0] == 0


def _setup(n_cases: int, channels=("in_app",)):
    clear_queue()
    users = [make_user(), make_user()]
    # The hourly cap must come out exactly as without the crash (the takeover does not count twice).
    database.execute_update("UPDATE user_notification_preferences SET max_per_hour = %s WHERE user_id = ANY(%s)",
                            (CAP, [u["id"] for u in users]))
    cases = [make_case(assigned_to=users[0]["id"]) for _ in range(n_cases)]
    # Grouping off: these tests count the per-case deliveries (test_storm_grouping.py groups them).
    rule = make_rule(recipients={"assignee": True, "users": [users[1]["id"]]}, channels=list(channels),
                     trigger_config={"from": "new", "to": "in_progress"}, group_window_minutes=0)
    database.execute_update("UPDATE sag_sager SET status = 'in_progress' WHERE id = ANY(%s)",
                            ([c["id"] for c in cases],))
    return rule, users


def _assert_exactly_once(rule, users, n_cases, channels=1):
    evs = events(reminder_id=rule["id"])
    assert len(evs) == n_cases and all(e["status"] == "sent" for e in evs)
    rows = logs(rule_id=rule["id"])
    assert len(rows) == 2 * n_cases * channels
    for user in users:
        mine = [r for r in rows if r["user_id"] == user["id"]]
        assert len({r["event_id"] for r in mine if r["status"] == "sent"}) == min(n_cases, CAP)
        assert len({r["event_id"] for r in mine if r["status"] == "rate_limited"}) == n_cases - min(n_cases, CAP)
    assert len({(r["event_id"], r["user_id"], r["channel"]) for r in rows}) == len(rows)


def test_worker_killed_inside_delivery_loses_nothing(app):
    n = 40
    rule, users = _setup(n)
    url = os.environ["DATABASE_URL"]
    with psycopg.connect(url) as blocker, psycopg.connect(url, autocommit=True) as watch:
        blocker.execute("LOCK TABLE sag_reminder_logs IN SHARE MODE")
        with _child_worker() as child:
            _wait_until(lambda: _blocked_on_lock(watch), "the worker to block inside delivery")
            claimed = [e for e in events(reminder_id=rule["id"]) if e["status"] == "processing"]
            assert len(claimed) == n
            orphans = _kill_while_blocked(child, watch)
        blocker.rollback()
        _wait_until_gone(watch, orphans)
    # The dead worker's write is one statement: its backend, let go, either noticed the client
    # gone and rolled it back, or ran it to the end and committed it whole (its CALL had reached
    # the server in full), and then its in-app events are finished.
    written = logs(rule_id=rule["id"])
    assert len(written) in (0, 2 * n)
    assert all(e["status"] == ("sent" if written else "processing") for e in events(reminder_id=rule["id"]))
    run_worker(offset=timedelta(seconds=3))  # after the 1 s lease another worker takes over
    _assert_exactly_once(rule, users, n)


def test_worker_killed_after_delivery_before_emails_sends_each_once(app):
    # In-app-only events are closed in the delivery transaction itself; events with e-mail stay
    # open until their e-mails went out. The worker renews its lease on them before sending,
    # which is where the held row locks stop it here.
    n = 30
    rule, users = _setup(n, channels=("in_app", "email"))
    url = os.environ["DATABASE_URL"]
    with psycopg.connect(url) as logs_lock, psycopg.connect(url) as rows_lock, \
            psycopg.connect(url, autocommit=True) as watch:
        logs_lock.execute("LOCK TABLE sag_reminder_logs IN SHARE MODE")
        with _child_worker() as child:
            _wait_until(lambda: _blocked_on_lock(watch), "the worker to block inside delivery")
            # hold the claimed events so closing them blocks, then let delivery commit
            rows_lock.execute("SELECT id FROM sag_reminder_queue WHERE reminder_id = %s FOR NO KEY UPDATE",
                              (rule["id"],))
            logs_lock.rollback()
            _wait_until(lambda: watch.execute("SELECT count(*) FROM sag_reminder_logs WHERE rule_id = %s",
                                              (rule["id"],)).fetchone()[0] == 4 * n, "delivery to commit")
            _wait_until(lambda: _blocked_on_lock(watch), "the worker to block before sending")
            orphans = _kill_while_blocked(child, watch)
        rows_lock.rollback()
        _wait_until_gone(watch, orphans)
    assert all(e["status"] == "processing" for e in events(reminder_id=rule["id"]))
    mails_before = len(list(mail.mail_dir().glob("*.eml")))
    run_worker(offset=timedelta(seconds=3))
    _assert_exactly_once(rule, users, n, channels=2)
    # each e-mail exactly once (the rate-limited ones are not sent)
    assert len(list(mail.mail_dir().glob("*.eml"))) - mails_before == 2 * min(n, CAP)
