"""The daily digest choice of the signed-in user: the API, the form handler, and the section the
sag module adds to the core preferences page (slot `notification_preferences`).

Stored in `sag_digest_settings` (the core preferences row knows nothing of cases).
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, StrictBool

from app.core import database
from app.core.deps import CurrentUser
from app.core.forms import PostedForm, parse_form
from app.core.queries import load_queries
from app.core.templating import templates

Q = load_queries(Path(__file__).parent / "queries" / "daily_digest.sql")
api = APIRouter(tags=["sag"])
pages = APIRouter(include_in_schema=False)
SECTION = "sag/digest_settings.html"
PAGE = "sag/digest_settings_page.html"


class DigestSettings(BaseModel):
    """The daily digest: off by default; at `send_at` (the user's local time) on working days."""

    model_config = ConfigDict(extra="forbid")
    enabled: StrictBool = False
    send_at: time = time(7, 30)
    include_unassigned: StrictBool = False


def read_settings(user_id: int) -> dict[str, Any]:
    return dict(database.execute_query(Q["read_settings"], {"user_id": user_id})[0])


def save_settings(user_id: int, s: DigestSettings) -> dict[str, Any]:
    database.execute_update(Q["save_settings"], {"user_id": user_id, "enabled": s.enabled,
                                                 "send_at": s.send_at.replace(second=0, microsecond=0),
                                                 "include_unassigned": s.include_unassigned})
    return read_settings(user_id)


@api.get("/digest/settings", response_model=DigestSettings)
def read_digest_settings(user: CurrentUser) -> dict[str, Any]:
    """My daily digest choice."""
    return read_settings(user.id)


@api.put("/digest/settings", response_model=DigestSettings)
def update_digest_settings(body: DigestSettings, user: CurrentUser) -> dict[str, Any]:
    """Switch my daily digest on or off, set its local time and whether it lists unassigned cases."""
    return save_settings(user.id, body)


def _form(data: dict[str, Any]) -> dict[str, Any]:
    return {"enabled": bool(data.get("digest_enabled")), "include_unassigned": bool(data.get("digest_unassigned")),
            "send_at": (data.get("digest_send_at") or "").strip()}


def _shown(settings: dict[str, Any]) -> dict[str, Any]:
    at = settings.get("send_at")
    return {**settings, "send_at": at.strftime("%H:%M") if isinstance(at, time) else (at or "")}


@pages.post("/digest/settings")
def update_digest_settings_page(request: Request, user: CurrentUser, data: PostedForm):
    shaped = _form(data)
    body = parse_form(DigestSettings, shaped, PAGE, lambda: {"digest": shaped})
    save_settings(user.id, body)
    return RedirectResponse("/me/notifications?notice=saved#dailyDigest", status_code=303)


def preferences_section(request: Request, **_context: Any) -> Markup:
    """The slot on the core preferences page: the daily digest form."""
    user = getattr(request.state, "user", None)
    if user is None:
        return Markup("")
    html = templates.get_template(SECTION).render(
        request=request, digest=_shown(read_settings(user.id)), errors={},
        csrf_token=getattr(user, "csrf_token", "") or "")
    return Markup(html)  # noqa: S704 - rendered by an autoescaping template
