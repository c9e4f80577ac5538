"""Notes on a case: plain text up to 20,000 characters, edited or (softly) deleted by their author
or an admin, every edit keeping the earlier text in sag_note_revisions.

The functions take the connection of the caller's transaction (the API's, or mail-in's), so a
note and whatever the caller does with it commit together. Mentions and watcher notifications are
not started here: triggers on sag_notes queue them (see docs/conversation.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from app.core import database
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.queries import load_queries
from app.modules.sag.cases.store import MODULE, NotWritten

Q = load_queries(Path(__file__).parent / "queries" / "notes.sql")

BODY_MAX = 20_000  # characters, as the table's CHECK says
VIA = ("web", "api", "email")


def written() -> None:
    """Under the module's DRY_RUN the write ran and is rolled back: say so (409) instead of
    answering as if it were saved."""
    if database.is_dry_run():
        raise NotWritten("Module %(module)s runs with DRY_RUN (MODULES__%(key)s__DRY_RUN): "
                         "the change was logged, not written", module=MODULE, key=MODULE.upper())


def check_body(body: str) -> str:
    """The body as it will be stored, or a clear 422: not blank, at most BODY_MAX, no NUL."""
    if not isinstance(body, str) or not body.strip():
        raise ValidationFailed("A note needs some text", field="body")
    # Browsers send a textarea's line breaks as CRLF; its maxlength counted them as one.
    body = body.replace("\r\n", "\n")
    if len(body) > BODY_MAX:
        raise ValidationFailed("A note can be at most %(max)s characters (this one has %(length)s)",
                               field="body", max=BODY_MAX, length=len(body))
    if "\x00" in body:
        raise ValidationFailed("A note must not contain NUL (\\0) characters", field="body")
    return body


def _actor(conn: psycopg.Connection, user_id: int) -> dict[str, Any]:
    row = conn.execute(Q["read_actor"], {"user_id": user_id}).fetchone()
    if row is None or not row["active"]:
        raise Forbidden("Only active users can write notes")
    return row


def _locked_note(conn: psycopg.Connection, note_id: int, user_id: int, verb: str,
                 case_id: int | None) -> dict[str, Any]:
    note = conn.execute(Q["lock_note"], {"note_id": note_id}).fetchone()
    if note is None or (case_id is not None and note["sag_id"] != case_id):
        raise NotFound("Note %(id)s not found", id=note_id)
    actor = _actor(conn, user_id)
    if note["author_id"] != user_id and actor["role"] != "admin":
        if verb == "edit":
            raise Forbidden("Only the note's author or an admin may edit it")
        raise Forbidden("Only the note's author or an admin may delete it")
    if note["deleted_at"] is not None:
        if verb == "edit":
            raise Conflict("Note %(id)s was deleted and cannot be edited", id=note_id)
        raise Conflict("Note %(id)s was deleted and cannot be deleted", id=note_id)
    return note


def require_case(conn: psycopg.Connection, case_id: int) -> dict[str, Any]:
    """The case's id and creator, or 404."""
    row = conn.execute(Q["read_case_ref"], {"case_id": case_id}).fetchone()
    if row is None:
        raise NotFound("Case %(id)s not found", id=case_id)
    return row


def add_note(conn: psycopg.Connection, case_id: int, author_id: int, body: str, *,
             via: str = "web") -> dict[str, Any]:
    """Add a note to a case; returns the inserted sag_notes row."""
    body = check_body(body)
    if via not in VIA:
        raise ValidationFailed("via must be one of %(known)s", field="via", known=", ".join(VIA))
    _actor(conn, author_id)
    require_case(conn, case_id)
    return conn.execute(Q["insert_note"], {"case_id": case_id, "author_id": author_id,
                                           "body": body, "via": via}).fetchone()


def edit_note(conn: psycopg.Connection, note_id: int, editor_id: int, body: str, *,
              case_id: int | None = None) -> dict[str, Any]:
    """Replace a note's text, keeping the text it had in a revision row; unchanged text is no edit.
    With `case_id`, a note of another case is "not found"."""
    body = check_body(body)
    note = _locked_note(conn, note_id, editor_id, "edit", case_id)
    if note["body"] == body:
        return note
    conn.execute(Q["insert_revision"], {"note_id": note_id, "body": note["body"], "editor_id": editor_id})
    return conn.execute(Q["update_note_body"], {"note_id": note_id, "body": body,
                                                "editor_id": editor_id}).fetchone()


def delete_note(conn: psycopg.Connection, note_id: int, user_id: int, *,
                case_id: int | None = None) -> dict[str, Any]:
    """Soft-delete a note: the timeline then shows who deleted it and when, not its text."""
    _locked_note(conn, note_id, user_id, "delete", case_id)
    return conn.execute(Q["soft_delete_note"], {"note_id": note_id, "user_id": user_id}).fetchone()


def list_notes(conn: psycopg.Connection, case_id: int) -> list[dict[str, Any]]:
    """A case's notes oldest first; deleted notes come with body None."""
    return conn.execute(Q["list_notes"], {"case_id": case_id}).fetchall()


def read_note(conn: psycopg.Connection, note_id: int) -> dict[str, Any]:
    """One note with its author's, editor's and deleter's names (body None once deleted)."""
    row = conn.execute(Q["read_note"], {"note_id": note_id}).fetchone()
    if row is None:
        raise NotFound("Note %(id)s not found", id=note_id)
    return row


def revisions(conn: psycopg.Connection, note_id: int) -> list[dict[str, Any]]:
    """The earlier texts of a note, oldest first."""
    return conn.execute(Q["list_revisions"], {"note_id": note_id}).fetchall()
