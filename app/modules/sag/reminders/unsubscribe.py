"""One-click unsubscribe (RFC 8058) from the List-Unsubscribe header of reminder e-mails.

- GET  /sag/reminder-links/unsubscribe/{token}  a page that says what the link does, with a button
- POST /sag/reminder-links/unsubscribe/{token}  switches e-mail off for that kind of reminder
  (`trigger_overrides -> kind -> email = false` in the user's preferences)

The POST is what a mail client sends ("List-Unsubscribe=One-Click") without a session: the
signed token (bound to the user and the kind, reminders/email.py `unsubscribe_link`) is the
proof, so it needs neither a sign-in nor a CSRF token. Doing it twice changes nothing more.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request

from app.core import database, signing
from app.core.deps import public
from app.core.errors import FormError
from app.core.i18n import _, lookup
from app.core.queries import load_queries
from app.core.templating import render
from app.modules.sag.reminders.email import LINK_PURPOSE_UNSUBSCRIBE, UNSUBSCRIBE_MAX_AGE_S

router = APIRouter()
Q = load_queries(Path(__file__).parent / "queries" / "unsubscribe.sql")
TEMPLATE = "sag/reminder_unsubscribe.html"


class UnsubscribeRefused(FormError):
    """This link cannot be used: the page says why, with `status`."""

    def __init__(self, status: int, message: str):
        super().__init__(TEMPLATE, {"state": "refused"}, {"__all__": message}, status)


def _target(request: Request, token: str) -> dict:
    """The user and kind of a valid link (with the kind's label); raises UnsubscribeRefused."""
    try:
        data = signing.unsign(LINK_PURPOSE_UNSUBSCRIBE, token, max_age_s=UNSUBSCRIBE_MAX_AGE_S)
    except signing.ExpiredToken:
        raise UnsubscribeRefused(410, _("This link has expired. Change your notification preferences in the hub.")) \
            from None
    except signing.BadToken:
        raise UnsubscribeRefused(400, _("This link is not valid.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("k"), str):
        raise UnsubscribeRefused(400, _("This link is not valid."))
    rows = database.execute_query(Q["read_unsubscriber"], {"user_id": data["u"]})
    if not rows or not rows[0]["active"]:
        raise UnsubscribeRefused(404, _("This user no longer exists."))
    labels = {k["key"]: k["label"] for k in request.app.state.modules.notification_kinds()}
    return {"user_id": data["u"], "kind": data["k"], "label": lookup(labels.get(data["k"], data["k"])),
            "email": rows[0]["email"]}


@public  # the signed token in the link is the proof
@router.get("/reminder-links/unsubscribe/{token}")
def confirm_unsubscribe(token: str, request: Request):
    return render(request, TEMPLATE, {"state": "confirm", "target": _target(request, token)})


@public  # the signed token in the link is the proof; mail clients post without a session (RFC 8058)
@router.post("/reminder-links/unsubscribe/{token}")
def unsubscribe(token: str, request: Request):
    target = _target(request, token)
    with database.transaction():
        database.execute_update(Q["ensure_preferences"], {"user_id": target["user_id"]})
        database.execute_update(Q["switch_off_email"], {"user_id": target["user_id"], "kind": target["kind"]})
    return render(request, TEMPLATE, {"state": "done", "target": target})
