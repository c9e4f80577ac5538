"""Notes and the timeline of a case, mounted under /api/v1/sag (see docs/conversation.md).

Any signed-in user may read a case's conversation and write notes; a note is edited or deleted by
its author or an admin (others get 403). Writes go through one transaction each, attributed to
the signed-in user.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from app.core import database
from app.core.deps import CurrentUser
from app.core.errors import NotFound
from app.core.fields import NO_NUL, VISIBLE
from app.modules.sag.conversation import notes, timeline
from app.modules.sag.conversation.notes import BODY_MAX, written
from app.modules.sag.conversation.render import note_html

router = APIRouter(tags=["sag notes"])


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[str, Field(min_length=1, max_length=BODY_MAX, description=(
        'Plain text; line breaks kept, URLs linked, @username / @"Full Name" mention')), *VISIBLE]


def _shown(note: dict[str, Any]) -> dict[str, Any]:
    """A note as the API answers: with `body_html`, the body as the case page renders it."""
    return {**note, "body_html": None if note["body"] is None else str(note_html(note["body"]))}


@router.get("/{case_id:int}/notes")
def read_notes(case_id: int, user: CurrentUser) -> list[dict[str, Any]]:
    """The case's notes, oldest first; a deleted note has `body` null and says who deleted it."""
    with database.transaction() as conn:
        notes.require_case(conn, case_id)
        return [_shown(n) for n in notes.list_notes(conn, case_id)]


@router.post("/{case_id:int}/notes", status_code=201)
def create_note(case_id: int, data: NoteBody, user: CurrentUser, response: Response) -> dict[str, Any]:
    with database.transaction() as conn:
        note = notes.add_note(conn, case_id, user.id, data.body, via="api")
        written()
        response.headers["Location"] = f"/api/v1/sag/{case_id}/notes/{note['id']}"
        return _shown(notes.read_note(conn, note["id"]))


@router.get("/{case_id:int}/notes/{note_id:int}/revisions")
def read_note_revisions(case_id: int, note_id: int, user: CurrentUser) -> list[dict[str, Any]]:
    """The earlier texts of a note, oldest first (one per edit)."""
    with database.transaction() as conn:
        note = notes.read_note(conn, note_id)
        if note["sag_id"] != case_id:
            raise NotFound("Note %(id)s not found", id=note_id)
        if note["deleted_at"] is not None:
            return []
        return notes.revisions(conn, note_id)


@router.patch("/{case_id:int}/notes/{note_id:int}")
def update_note(case_id: int, note_id: int, data: NoteBody, user: CurrentUser) -> dict[str, Any]:
    with database.transaction() as conn:
        notes.edit_note(conn, note_id, user.id, data.body, case_id=case_id)
        written()
        return _shown(notes.read_note(conn, note_id))


@router.delete("/{case_id:int}/notes/{note_id:int}", status_code=204)
def delete_note(case_id: int, note_id: int, user: CurrentUser) -> Response:
    with database.transaction() as conn:
        notes.delete_note(conn, note_id, user.id, case_id=case_id)
        written()
    return Response(status_code=204)


@router.get("/{case_id:int}/timeline")
def read_timeline(case_id: int, user: CurrentUser,
                  page: Annotated[int, Query(ge=1, le=1_000_000, description="1 = the newest entries")] = 1,
                  page_size: Annotated[int, Query(ge=1, le=timeline.PAGE_SIZE_MAX)] = timeline.PAGE_SIZE,
                  ) -> dict[str, Any]:
    """Notes, status changes, assignments, deadline changes and reminders sent, newest last.

    `kind` is one of created, status, note, assignment, deadline, reminder; `actor_name` who,
    `at` when. Page 1 holds the newest entries; `older_page` is the page before it (or null)."""
    with database.transaction() as conn:
        return timeline.timeline(conn, case_id, page, page_size)


@router.get("/mention-candidates")
def read_mention_candidates(user: CurrentUser,
                            q: Annotated[str, Query(max_length=timeline.MENTION_PREFIX_MAX, pattern=NO_NUL,
                                                    description="What follows the @ typed so far")] = "",
                            limit: Annotated[int, Query(ge=1, le=20)] = timeline.MENTION_LIMIT,
                            ) -> list[dict[str, Any]]:
    """Active users whose username, full name or a word of it starts with `q` (for @-autocomplete)."""
    with database.transaction() as conn:
        return timeline.mention_candidates(conn, q, limit)
