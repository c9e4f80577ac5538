"""The two summary kinds, each with a handler of its own: the quiet-hours digest and the
"n reminders held back" notice. Both go to one user through the channels' `send_summary`,
written in that user's language (the in-app notice's row too: its toast shows it as stored).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import psycopg

from app.core import i18n
from app.core.i18n import _, ngettext
from app.modules.sag.reminders import channels
from app.modules.sag.reminders.email import SUMMARY_MAX_ITEMS, recipient_language, speaking
from app.modules.sag.reminders.events import Outcome, Q, error_text, finish, retry

log = logging.getLogger("app.modules.sag")
MESSAGE_MAX_CHARS = 5000


def _more(n: int) -> str:
    return _("… and %(n)s more", n=n)


def _summary_user(conn: psycopg.Connection, user_id: int | None, now: datetime) -> dict[str, Any] | None:
    if user_id is None:
        return None
    return conn.execute(Q["read_user_for_summary"], {"user_id": user_id, "now": now}).fetchone()


def _send(channel: channels.Channel, user: dict[str, Any], summary: channels.Summary) -> str | None:
    try:
        error = channel.send_summary(user, summary)
    except Exception as exc:  # noqa: BLE001 - a failing channel is retried like a refused send
        log.exception("reminder channel %s could not send a summary", channel.name)
        error = f"{type(exc).__name__}: {exc}"
    return None if error is None else error_text(str(error))


def _mark(conn: psycopg.Connection, ids: list[int], status: str, now: datetime, error: str | None) -> None:
    if ids:
        conn.execute(Q["mark_deferred_sent"], {"ids": ids, "status": status, "now": now, "error": error})


def process_digest(conn: psycopg.Connection, row: dict[str, Any], now: datetime, opts: Any, out: Outcome) -> None:
    """Quiet hours are over: what they deferred goes out as one summary per channel.

    Preferences are read again now: a channel the user switched off meanwhile (the switch,
    or the trigger's override) is suppressed rather than sent. A channel that fails keeps the
    digest for a retry; the channels that worked are not sent again.
    """
    registry = channels.registry()
    with conn.transaction():
        user = _summary_user(conn, row["target_user_id"], now)
        rows = conn.execute(Q["read_deferred"], {"user_id": row["target_user_id"], "now": now,
                                                 "channels": channels.sql_param(registry)}).fetchall()
    active = user is not None and user["active"]
    by_channel: dict[str, list[dict[str, Any]]] = {}
    dropped: dict[str, list[int]] = {}
    for d in rows:
        if not active:
            dropped.setdefault("user inactive", []).append(d["id"])
        elif d["channel"] not in registry:
            dropped.setdefault(f"channel {d['channel']} is not available", []).append(d["id"])
        elif not d["wanted"]:
            with i18n.use_language("en"):  # the row's error text, for the log: English
                reason = f"{registry[d['channel']].label} switched off"
            dropped.setdefault(reason, []).append(d["id"])
        else:
            by_channel.setdefault(d["channel"], []).append(d)
    if dropped:
        with conn.transaction():
            for reason, ids in dropped.items():
                _mark(conn, ids, "suppressed", now, reason)
    failed_ids: list[int] = []
    first_error = None
    for name, deferred in by_channel.items():
        with speaking(recipient_language(user)):
            summary = channels.Summary(
                title=ngettext("%(num)s reminder from your quiet hours", "%(num)s reminders from your quiet hours",
                               len(deferred)),
                intro=_("These reminders arrived during your quiet hours and were held until now."),
                items=[dict(d) for d in deferred])
        error = _send(registry[name], user, summary)
        if error is None:
            with conn.transaction():
                _mark(conn, [d["id"] for d in deferred], "sent", now, None)
            out.handed_over[name] += 1
        else:
            failed_ids += [d["id"] for d in deferred]
            first_error = first_error or error
    with conn.transaction():
        if first_error is None:
            finish(conn, [row["id"]], now)
        elif retry(conn, {row["id"]: first_error}, now, opts, out):
            _mark(conn, failed_ids, "failed", now, first_error)


def process_held_back(conn: psycopg.Connection, row: dict[str, Any], now: datetime, opts: Any, out: Outcome) -> None:
    """The rate-limit window is over: one "n reminders held back" notice, outside the cap.

    It goes to the user's first channel (in registry order) that is switched on; when that
    channel keeps quiet hours and they are on, the notice waits for their end.
    """
    window_start = (row["event_data"] or {}).get("window_start")
    registry = channels.registry()
    with conn.transaction():
        user = _summary_user(conn, row["target_user_id"], now)
        held = conn.execute(Q["read_held_back"], {"user_id": row["target_user_id"],
                                                  "window_start": window_start}).fetchall()
        if not held or user is None or not user["active"]:
            finish(conn, [row["id"]], now)
            return
        n = len(held)
        with speaking(recipient_language(user)):
            title = ngettext("%(num)s reminder held back", "%(num)s reminders held back", n)
            message = (ngettext("You reached your limit of reminders per hour, so %(num)s reminder was not pushed. "
                                "It is in your reminder list:",
                                "You reached your limit of reminders per hour, so %(num)s reminders were not "
                                "pushed. They are in your reminder list:", n)
                       + "\n" + "\n".join(f"- {h['title']}" for h in held[:SUMMARY_MAX_ITEMS]))
            if n > SUMMARY_MAX_ITEMS:
                message += "\n" + _more(n - SUMMARY_MAX_ITEMS)
            intro = _("These reminders were held back by your hourly limit.")
        switched_on = [c for c in registry.values() if channels.switched_on(c, user["prefs"])]
        channel = switched_on[0] if switched_on else next(iter(registry.values()))
        if switched_on and channel.quiet_hours and user["quiet_until"] is not None:
            # It respects quiet hours: it waits for their end, then is decided afresh.
            conn.execute(Q["postpone_event"], {"id": row["id"], "until": user["quiet_until"], "now": now})
            return
        status = "suppressed" if not switched_on else ("pending" if channel.pending else "sent")
        conn.execute(Q["insert_summary_log"], {
            "event_id": row["id"], "user_id": user["id"], "email": user["email"] if channel.external else None,
            "channel": channel.name, "status": status, "title": title, "message": message[:MESSAGE_MAX_CHARS],
            "now": now})
    if status == "pending":
        error = _send(channel, user, channels.Summary(title=title, intro=intro, items=[dict(h) for h in held]))
        with conn.transaction():
            conn.execute(Q["record_summary_result"], {"status": "sent" if error is None else "failed",
                                                      "error": error, "now": now, "event_id": row["id"],
                                                      "channel": channel.name})
        if error is None:
            out.handed_over[channel.name] += 1
    with conn.transaction():
        finish(conn, [row["id"]], now)
