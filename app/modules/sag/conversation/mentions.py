"""The worker's handlers for the `mention` and `watch` event kinds (registered in reminders/kinds.py).

Triggers on sag_notes and sag_sager queue the events (conversation/functions/); here the
handlers decide who is notified, then deliver through the engine's batch path (delivery.py):

- mention: the active users named by `@username` / `@"Full Name"` (case-insensitive) in the
  note, never its author, once per note (users an earlier event of the note reached are left
  out); for an edit, only handles the new text has and the previous text had not. The
  mentioned users become watchers (unless they unwatched the case).
- watch (a new note): the case's watchers, except the author and anyone the note mentions.
- watch (a status change): the case's watchers, except whoever made the change and those a
  status-change rule already notified of it (the rule's firings are in the same batch, which
  handles them first).

Titles and messages are the hub's texts, written in every language so each recipient reads
their own (`delivery.in_each_language`); the case's title and the note are as their authors wrote them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from app.core.i18n import get_language
from app.core.i18n import gettext as _
from app.modules.sag.conversation import delivery
from app.modules.sag.conversation.delivery import Q
from app.modules.sag.conversation.render import mentioned_handles
from app.modules.sag.reminders.events import Outcome

NOTE_EXCERPT_CHARS = 500


def _excerpt(body: str) -> str:
    return body[:NOTE_EXCERPT_CHARS] + ("…" if len(body) > NOTE_EXCERPT_CHARS else "")


def resolve(conn: psycopg.Connection, body: str) -> list[int]:
    """Ids of the active users a text mentions."""
    handles = [h.lower() for h in mentioned_handles(body)]
    if not handles:
        return []
    return [r["id"] for r in conn.execute(Q["resolve_handles"], {"handles": handles}).fetchall()]


def _note_and_case(conn: psycopg.Connection, row: dict[str, Any]) -> tuple[dict | None, dict | None]:
    note_id = (row["event_data"] or {}).get("note_id")
    with conn.transaction():
        note = conn.execute(Q["read_note"], {"note_id": note_id}).fetchone() if note_id is not None else None
        case = conn.execute(Q["read_case"], {"sag_id": row["sag_id"]}).fetchone()
    return note, case


def mention_recipients(conn: psycopg.Connection, row: dict[str, Any], note: dict[str, Any]) -> list[int]:
    data = row["event_data"] or {}
    with conn.transaction():
        if data.get("edit"):
            before = set(resolve(conn, data.get("previous") or ""))
            users = [u for u in resolve(conn, data.get("body") or "") if u not in before]
        else:
            users = resolve(conn, note["body"])
        done = {r["user_id"] for r in conn.execute(Q["already_mentioned"], {
            "sag_id": note["sag_id"], "note_id": note["id"], "event_id": row["id"]}).fetchall()}
        users = [u for u in users if u != note["author_id"] and u not in done]
        if users:
            conn.execute(Q["watch_mentioned"], {"sag_id": note["sag_id"], "user_ids": users})
    return users


def process_mention(conn: psycopg.Connection, row: dict[str, Any], now: datetime, opts: Any, out: Outcome) -> None:
    note, case = _note_and_case(conn, row)
    if note is None or case is None or note["deleted_at"] is not None:
        delivery.skip(conn, row, "note deleted", now, out)
        return
    users = delivery.stored_recipients(row)
    if users is None:
        users = mention_recipients(conn, row, note)
    body = (row["event_data"] or {}).get("body") or note["body"]
    def texts() -> tuple[str, str]:
        return (_("%(author)s mentioned you on #%(id)s: %(title)s", author=note["author_name"], id=case["id"],
                  title=case["title"]), _excerpt(body))

    delivery.deliver(conn, row, users, texts, now, opts, out)


def _watchers(conn: psycopg.Connection, sag_id: int) -> list[int]:
    with conn.transaction():
        return [r["user_id"] for r in conn.execute(Q["read_watchers"], {"sag_id": sag_id}).fetchall()]


def _note_news(conn: psycopg.Connection, row: dict[str, Any], now: datetime, opts: Any, out: Outcome) -> None:
    note, case = _note_and_case(conn, row)
    if note is None or case is None or note["deleted_at"] is not None:
        delivery.skip(conn, row, "note deleted", now, out)
        return
    users = delivery.stored_recipients(row)
    if users is None:
        with conn.transaction():
            mentioned = set(resolve(conn, note["body"]))
        users = [u for u in _watchers(conn, case["id"]) if u != note["author_id"] and u not in mentioned]
    def texts() -> tuple[str, str]:
        return (_("%(author)s wrote on #%(id)s: %(title)s", author=note["author_name"], id=case["id"],
                  title=case["title"]), _excerpt(note["body"]))

    delivery.deliver(conn, row, users, texts, now, opts, out)


def _status_news(conn: psycopg.Connection, row: dict[str, Any], now: datetime, opts: Any, out: Outcome) -> None:
    data = row["event_data"] or {}
    users = delivery.stored_recipients(row)
    # One transaction for every read: this runs once per status change of a watched case, on
    # the same worker that delivers the rules' firings (each transaction is two round trips more).
    with conn.transaction():
        case = conn.execute(Q["read_case"], {"sag_id": row["sag_id"]}).fetchone()
        statuses = {r["key"]: r for r in conn.execute(Q["read_status_labels"], {
            "keys": [data.get("from"), data.get("to")]}).fetchall()}
        actor = (conn.execute(Q["read_user_name"], {"user_id": data["changed_by"]}).fetchone()
                 if data.get("changed_by") is not None else None)
        if case is not None and users is None:
            ruled = {r["user_id"] for r in conn.execute(Q["notified_by_status_rules"], {
                "sag_id": case["id"], "event_id": row["id"]}).fetchall()}
            watchers = [r["user_id"] for r in conn.execute(Q["read_watchers"], {"sag_id": case["id"]}).fetchall()]
            users = [u for u in watchers if u != data.get("changed_by") and u not in ruled]
    if case is None:
        delivery.skip(conn, row, "case deleted", now, out)
        return
    def label(key: str | None) -> str:
        status = statuses.get(key)
        if status is None:
            return key or ""
        return status["label_da"] if get_language() == "da" and status["label_da"] else status["label"]

    def texts() -> tuple[str, str]:
        return (f"#{case['id']} {case['title']}: {label(data.get('from'))} → {label(data.get('to'))}",
                _("Status changed by %(name)s.", name=actor["name"]) if actor else _("Status changed."))

    delivery.deliver(conn, row, users, texts, now, opts, out)


def process_watch(conn: psycopg.Connection, row: dict[str, Any], now: datetime, opts: Any, out: Outcome) -> None:
    if (row["event_data"] or {}).get("what") == "status":
        _status_news(conn, row, now, opts, out)
    else:
        _note_news(conn, row, now, opts, out)
