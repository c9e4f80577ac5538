"""The pages behind the links in reminder e-mails; they work without a session.

- GET  /sag/reminder-links/open/{token}             marks the reminder clicked and redirects to the case
- GET  /sag/reminder-links/action/{token}/{action}  a confirm page (acknowledge, snooze_1h, snooze_1d)
- POST /sag/reminder-links/action/{token}/{action}  does it

A token is signed, expires (7 days), and is bound to the recipient and the log row: one per
e-mail, behind all its links (email.LINK_PURPOSE_MAIL). State changes need the POST: mail
scanners that follow links must not acknowledge. A signed-in user other than the recipient is
refused. Links of e-mails sent before, a token per link (`open/{token}` and
`action/{token}` with the action inside it), keep working until they expire.

A refused link is answered once, at the edge: `LinkRefused` is a `FormError` for this page, so
`app.main` renders it with its status and message and the handlers need no error handling.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from app.core import database, signing
from app.core.deps import OptionalUser, public
from app.core.errors import FormError
from app.core.i18n import _, lazy_gettext
from app.core.templating import render
from app.modules.sag.reminders import mine as reminders_mine
from app.modules.sag.reminders.email import ACTIONS, LINK_PURPOSE_ACTION, LINK_PURPOSE_MAIL, LINK_PURPOSE_OPEN

router = APIRouter()
TEMPLATE = "sag/reminder_action.html"
ACTION_LABELS = {"acknowledge": lazy_gettext("Acknowledge this reminder"),
                 "snooze_1h": lazy_gettext("Snooze this reminder for 1 hour"),
                 "snooze_1d": lazy_gettext("Snooze this reminder for 1 day")}
DONE_LABELS = {"acknowledge": lazy_gettext("Acknowledged. You will not be reminded of this again until the case "
                                           "changes status."),
               "snooze_1h": lazy_gettext("Snoozed. The reminder comes back in one hour."),
               "snooze_1d": lazy_gettext("Snoozed. The reminder comes back in one day.")}


class LinkRefused(FormError):
    """This link cannot be used: the page says why, with `status`."""

    def __init__(self, status: int, message: str):
        super().__init__(TEMPLATE, {"state": "refused"}, {"__all__": message}, status)


def _log_for(purposes: tuple[str, ...], token: str, viewer, action: str | None = None) -> tuple[dict, dict]:
    """(token data, log row) for a valid link, the token made for one of `purposes` (the
    e-mail's, or an earlier link's); `action`: the one the link's path names, put in the data
    as "a" (an earlier action token carries its own). Raises LinkRefused."""
    data = _unsign_any(purposes, token)
    if not isinstance(data, dict) or not isinstance(data.get("l"), int) or not isinstance(data.get("u"), int):
        raise LinkRefused(400, _("This link is not valid."))
    if action is not None:
        if "a" in data:  # an earlier action token has no action in its path
            raise LinkRefused(400, _("This link is not valid."))
        data["a"] = action
    if LINK_PURPOSE_OPEN not in purposes and data.get("a") not in ACTIONS:
        raise LinkRefused(400, _("This link is not valid."))
    if viewer is not None and viewer.id != data["u"]:
        raise LinkRefused(403, _("This link was sent to another user. Sign out, or use your own e-mail."))
    rows = database.execute_query(reminders_mine.Q["read_link_target"], {"id": data["l"]})
    if not rows or rows[0]["user_id"] != data["u"] or not rows[0]["active"]:
        raise LinkRefused(404, _("This reminder no longer exists."))
    return data, rows[0]


def _unsign_any(purposes: tuple[str, ...], token: str) -> object:
    """The token's data, made for the first of `purposes` it verifies for; raises LinkRefused."""
    for purpose in purposes:
        try:
            return signing.unsign(purpose, token)
        except signing.ExpiredToken:
            raise LinkRefused(410, _("This link has expired. Open the hub to see your reminders.")) from None
        except signing.BadToken:
            continue
    raise LinkRefused(400, _("This link is not valid."))


@public  # the signed, expiring token in the link is the proof
@router.get("/reminder-links/open/{token}")
def open_reminder_link(token: str, viewer: OptionalUser):
    data, log = _log_for((LINK_PURPOSE_MAIL, LINK_PURPOSE_OPEN), token, viewer)
    reminders_mine.mark(data["u"], [data["l"]], "clicked")
    target = f"/sag/{log['sag_id']}" if log["sag_id"] else "/sag/reminders"
    return RedirectResponse(target, status_code=303)


@public  # the signed, expiring token in the link is the proof
@router.get("/reminder-links/action/{token}/{action}")
def confirm_reminder_action(token: str, action: str, request: Request, viewer: OptionalUser):
    data, log = _log_for((LINK_PURPOSE_MAIL,), token, viewer, action)
    return _confirm_page(request, data, log)


@public  # an e-mail sent before links shared one token: the action is in the token
@router.get("/reminder-links/action/{token}")
def confirm_earlier_reminder_action(token: str, request: Request, viewer: OptionalUser):
    data, log = _log_for((LINK_PURPOSE_ACTION,), token, viewer)
    return _confirm_page(request, data, log)


def _confirm_page(request: Request, data: dict, log: dict):
    # The page's button posts to the URL it was opened with.
    return render(request, TEMPLATE, {"state": "confirm", "log": log, "action": data["a"],
                                      "label": str(ACTION_LABELS[data["a"]])})


def _perform(data: dict, log: dict) -> str:
    user_id, log_id, action = data["u"], data["l"], data["a"]
    if action == "acknowledge":
        reminders_mine.mark(user_id, [log_id], "acknowledge")
    else:
        if log["rule_id"] is None or log["sag_id"] is None:
            raise LinkRefused(409, _("This notice is a summary and cannot be snoozed."))
        until = reminders_mine.snooze_until(user_id, preset="1h" if action == "snooze_1h" else "1d")
        reminders_mine.snooze(user_id, [log_id], until)
    return str(DONE_LABELS[action])


@public  # the signed, expiring token in the link is the proof
@router.post("/reminder-links/action/{token}/{action}")
def perform_reminder_action(token: str, action: str, request: Request, viewer: OptionalUser):
    data, log = _log_for((LINK_PURPOSE_MAIL,), token, viewer, action)
    return render(request, TEMPLATE, {"state": "done", "log": log, "message": _perform(data, log)})


@public  # an e-mail sent before links shared one token: the action is in the token
@router.post("/reminder-links/action/{token}")
def perform_earlier_reminder_action(token: str, request: Request, viewer: OptionalUser):
    data, log = _log_for((LINK_PURPOSE_ACTION,), token, viewer)
    return render(request, TEMPLATE, {"state": "done", "log": log, "message": _perform(data, log)})
