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


def _link_data(purposes: tuple[str, ...], token: str) -> dict:
    """The data of a link's token made for one of `purposes` (the e-mail's, or an earlier
    link's): {"l": log id, "u": user id[, "a": action]}. Raises LinkRefused."""
    for purpose in purposes:
        try:
            data = signing.unsign(purpose, token)
            break
        except signing.ExpiredToken:
            raise LinkRefused(410, _("This link has expired. Open the hub to see your reminders.")) from None
        except signing.BadToken:
            continue
    else:
        raise LinkRefused(400, _("This link is not valid."))
    if not isinstance(data, dict) or not isinstance(data.get("l"), int) or not isinstance(data.get("u"), int):
        raise LinkRefused(400, _("This link is not valid."))
    return data


def _log_of(data: dict, viewer) -> dict:
    """The log row a link's data names, if the viewer may use it. Raises LinkRefused."""
    if viewer is not None and viewer.id != data["u"]:
        raise LinkRefused(403, _("This link was sent to another user. Sign out, or use your own e-mail."))
    rows = database.execute_query(reminders_mine.Q["read_link_target"], {"id": data["l"]})
    if not rows or rows[0]["user_id"] != data["u"] or not rows[0]["active"]:
        raise LinkRefused(404, _("This reminder no longer exists."))
    return rows[0]


def _action_link(token: str, action: str | None, viewer) -> tuple[dict, dict]:
    """(data with its action as "a", log row) of an action link: the e-mail's token with the
    action its path names, or (`action` None) an earlier action token carrying its own."""
    if action is None:
        data = _link_data((LINK_PURPOSE_ACTION,), token)
    else:
        data = dict(_link_data((LINK_PURPOSE_MAIL,), token), a=action)
    if data.get("a") not in ACTIONS:
        raise LinkRefused(400, _("This link is not valid."))
    return data, _log_of(data, viewer)


@public  # the signed, expiring token in the link is the proof
@router.get("/reminder-links/open/{token}")
def open_reminder_link(token: str, viewer: OptionalUser):
    data = _link_data((LINK_PURPOSE_MAIL, LINK_PURPOSE_OPEN), token)
    log = _log_of(data, viewer)
    reminders_mine.mark(data["u"], [data["l"]], "clicked")
    target = f"/sag/{log['sag_id']}" if log["sag_id"] else "/sag/reminders"
    return RedirectResponse(target, status_code=303)


@public  # the signed, expiring token in the link is the proof
@router.get("/reminder-links/action/{token}/{action}")
def confirm_reminder_action(token: str, action: str, request: Request, viewer: OptionalUser):
    return _confirm_page(request, *_action_link(token, action, viewer))


@public  # an e-mail sent before links shared one token: the action is in the token
@router.get("/reminder-links/action/{token}")
def confirm_earlier_reminder_action(token: str, request: Request, viewer: OptionalUser):
    return _confirm_page(request, *_action_link(token, None, viewer))


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
    return _done_page(request, *_action_link(token, action, viewer))


@public  # an e-mail sent before links shared one token: the action is in the token
@router.post("/reminder-links/action/{token}")
def perform_earlier_reminder_action(token: str, request: Request, viewer: OptionalUser):
    return _done_page(request, *_action_link(token, None, viewer))


def _done_page(request: Request, data: dict, log: dict):
    return render(request, TEMPLATE, {"state": "done", "log": log, "message": _perform(data, log)})
