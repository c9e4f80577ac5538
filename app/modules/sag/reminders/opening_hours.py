"""The `opening` kind: a rule that delivers only within opening hours held a user's reminders
while its calendar was closed (their log rows wait `deferred`, `held_for_opening`); when the
calendar opens they go out here, oldest first.

Not as a burst: up to OPENING_BURST_MAX held reminders go out one by one (each pushed or
mailed as usual); more than that, and the user gets one summary per channel listing them,
while each reminder is still logged (`sent`, `in_summary`) and can be acknowledged under
*My reminders*. The summaries reuse the channels' `send_summary` like the quiet-hours digest
(summaries.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from app.core.i18n import _, ngettext
from app.modules.sag.reminders import channels
from app.modules.sag.reminders.email import SUMMARY_MAX_ITEMS, recipient_language, speaking
from app.modules.sag.reminders.events import Outcome, Q, finish, retry
from app.modules.sag.reminders.summaries import MESSAGE_MAX_CHARS, _mark, _more, _send, _summary_user

OPENING_BURST_MAX = 3  # held reminders per user that go out one by one at opening; more: one summary


def process_opening(conn: psycopg.Connection, row: dict[str, Any], now: datetime, opts: Any, out: Outcome) -> None:
    """The calendar opened: release what was held for this user, in the order it fired."""
    registry = channels.registry()
    with conn.transaction():
        user = _summary_user(conn, row["target_user_id"], now)
        held = conn.execute(Q["read_held_for_opening"], {"user_id": row["target_user_id"], "now": now,
                                                         "channels": channels.sql_param(registry)}).fetchall()
    wanted = [h for h in held if user is not None and user["active"] and h["channel"] in registry and h["wanted"]]
    dropped = [h["id"] for h in held if h not in wanted]
    if dropped:
        with conn.transaction():
            _mark(conn, dropped, "suppressed", now, "switched off or no longer available when the calendar opened")
    summarise = len({h["event_id"] for h in wanted}) > OPENING_BURST_MAX
    failed: dict[str, list[int]] = {}
    first_error = None
    by_channel: dict[str, list[dict[str, Any]]] = {}
    for h in wanted:
        by_channel.setdefault(h["channel"], []).append(h)
    for name, rows in by_channel.items():
        channel = registry[name]
        error = (_summarise(conn, channel, user, rows, row["id"], now) if summarise
                 else _one_by_one(conn, channel, rows, now, opts))
        if error is not None:
            failed[name] = [r["id"] for r in rows]
            first_error = first_error or error
        else:
            out.handed_over[name] += 1 if summarise else len(rows)
    with conn.transaction():
        if first_error is None:
            finish(conn, [row["id"]], now)
        else:
            ids = [i for v in failed.values() for i in v]
            conn.execute(Q["hold_again"], {"ids": ids, "now": now})
            if retry(conn, {row["id"]: first_error}, now, opts, out):
                _mark(conn, ids, "failed", now, first_error)


def _one_by_one(conn: psycopg.Connection, channel: channels.Channel, rows: list[dict[str, Any]], now: datetime,
                opts: Any) -> str | None:
    """Each held row as the reminder it is; in-app rows one statement each, so their pushes keep the order."""
    if not channel.pending:
        with conn.transaction():
            for r in rows:
                conn.execute(Q["release_held"], {"ids": [r["id"]], "status": "sent", "in_summary": False,
                                                 "now": now})
        return None
    ids = [r["id"] for r in rows]
    with conn.transaction():
        conn.execute(Q["release_held"], {"ids": ids, "status": "pending", "in_summary": False, "now": now})
        pending = [p for p in conn.execute(Q["read_pending_rows"], {
            "event_ids": sorted({r["event_id"] for r in rows}), "channel": channel.name}).fetchall()
            if p["id"] in set(ids)]
    try:
        results = channel.deliver(conn, pending, channels.DeliveryContext(now=now, worker_id=opts.worker_id))
    except Exception as exc:  # noqa: BLE001 - a failing channel keeps the rows for the retry
        results = dict.fromkeys(ids, f"{type(exc).__name__}: {exc}")
    sent = [i for i in ids if i in results and results[i] is None]
    with conn.transaction():
        conn.execute(Q["release_held"], {"ids": sent, "status": "sent", "in_summary": False, "now": now})
    errors = [str(results.get(i, "the channel reported no outcome")) for i in ids if i not in sent]
    return errors[0][:1000] if errors else None


def _summarise(conn: psycopg.Connection, channel: channels.Channel, user: dict[str, Any],
               rows: list[dict[str, Any]], event_id: int, now: datetime) -> str | None:
    """One summary on this channel listing the held reminders; each row is then `sent`, in the summary."""
    n = len(rows)
    with speaking(recipient_language(user)):
        title = ngettext("%(num)s reminder held until opening hours", "%(num)s reminders held until opening hours", n)
        intro = _("These reminders came outside opening hours and were held until now.")
        more = _more(n - SUMMARY_MAX_ITEMS) if n > SUMMARY_MAX_ITEMS else ""
    if channel.pending:
        error = _send(channel, user, channels.Summary(title=title, intro=intro, items=[dict(r) for r in rows]))
        if error is not None:
            return error
    else:
        message = intro + "\n" + "\n".join(f"- {r['title']}" for r in rows[:SUMMARY_MAX_ITEMS])
        if more:
            message += "\n" + more
        with conn.transaction():
            conn.execute(Q["insert_summary_log"], {
                "event_id": event_id, "user_id": user["id"], "email": None, "channel": channel.name,
                "status": "sent", "title": title, "message": message[:MESSAGE_MAX_CHARS], "now": now})
    with conn.transaction():
        conn.execute(Q["release_held"], {"ids": [r["id"] for r in rows], "status": "sent", "in_summary": True,
                                         "now": now})
    return None
