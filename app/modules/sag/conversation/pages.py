"""The note form of the case page (POST /sag/{id}/notes) and the `note_html` template filter.

The timeline itself is part of the case page (cases/pages.py asks `timeline.page_context`);
editing and deleting a note happen in place through the API (static/case_timeline.js).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from app.core import database
from app.core.deps import CurrentUser
from app.core.errors import FormError, HubError, NotFound
from app.core.i18n import error_text
from app.core.templating import env
from app.modules.sag.cases import pages as case_pages
from app.modules.sag.conversation import notes
from app.modules.sag.conversation.notes import written
from app.modules.sag.conversation.render import note_html

router = APIRouter()
env.filters["note_html"] = note_html

DETAIL = "sag/case_detail.html"
# How much of a posted note is read: a full note whose every line break came as CRLF, plus one,
# so "too long" is told apart from a cut note (the shared form reader cuts fields at 20,000).
POSTED_MAX = 2 * notes.BODY_MAX + 1


async def _note_form(request: Request) -> str:
    form = await request.form()
    value = next((v for k, v in form.multi_items() if k == "body" and isinstance(v, str)), "")
    return value[:POSTED_MAX]


NoteForm = Annotated[str, Depends(_note_form)]


@router.post("/{case_id:int}/notes")
def create_note_page(request: Request, case_id: int, user: CurrentUser, body: NoteForm):
    try:
        with database.transaction() as conn:
            note = notes.add_note(conn, case_id, user.id, body, via="web")
            written()
    except NotFound:
        raise
    except HubError as exc:
        context: dict[str, Any] = case_pages._case_context(case_id)
        context["note_draft"] = body[:notes.BODY_MAX]
        raise FormError(DETAIL, context, {"note": error_text(exc)}, exc.status) from exc
    return RedirectResponse(f"/sag/{case_id}?notice=saved#note-{note['id']}", status_code=303)

