"""The signed-in user's notification preferences: the model, the API and the page.

The preferences row (channels, quiet hours, hourly cap, per-kind overrides) belongs to the
core; the kinds a user can override are those the enabled modules declare in module.json
(`"notification_kinds"`), and the modules that send notifications apply the row.
"""

from __future__ import annotations

from datetime import datetime, time
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from psycopg.types.json import Jsonb
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)

from app.core import database, i18n
from app.core.deps import CurrentUser
from app.core.errors import ValidationFailed
from app.core.fields import N_, TimeZoneName, one_of_shapes, whole_number
from app.core.forms import PostedForm, form_errors, parse_form
from app.core.queries import load_queries
from app.core.templating import render

Q = load_queries(Path(__file__).parents[1] / "queries" / "notifications.sql")

api = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
pages = APIRouter(include_in_schema=False)

# A notification kind's key as module.json declares it.
KIND_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
KindKey = Annotated[str, Field(pattern=KIND_PATTERN)]


def notification_kinds(request: Request) -> dict[str, str]:
    """key -> label of the notification kinds of the enabled modules, in load order."""
    kinds: dict[str, str] = {}
    for kind in request.app.state.modules.notification_kinds():
        kinds.setdefault(kind["key"], kind["label"])
    return kinds


def kind_defaults(request: Request) -> dict[str, dict[str, bool]]:
    """key -> {channel: on?} for kinds whose module.json gives defaults (without an override)."""
    out: dict[str, dict[str, bool]] = {}
    for kind in request.app.state.modules.notification_kinds():
        if kind.get("defaults"):
            out.setdefault(kind["key"], dict(kind["defaults"]))
    return out


# --- preferences ------------------------------------------------------------------------

@cache
def timezones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z or z == "UTC")


class TriggerOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")
    in_app: StrictBool | None = None
    email: StrictBool | None = None


class Preferences(BaseModel):
    """A user's notification preferences (quiet hours and times in the user's time zone)."""

    # Quiet hours: both times or neither (and two different times, checked below).
    model_config = ConfigDict(extra="forbid", json_schema_extra=one_of_shapes(
        {"quiet_hours_start": None, "quiet_hours_end": None}, {"quiet_hours_start": {}, "quiet_hours_end": {}}))
    in_app_enabled: StrictBool = True
    email_enabled: StrictBool = True
    quiet_hours_start: time | None = None
    quiet_hours_end: time | None = None
    max_per_hour: whole_number(ge=1, le=1000) | None = Field(
        None, description="At most this many per hour; null = the default of the module that sends")
    trigger_overrides: dict[KindKey, TriggerOverride] = Field(
        default_factory=dict, description="Per notification kind (GET /api/v1/notifications/kinds)")
    # None (left out of a PUT) keeps the user's current zone rather than resetting it.
    timezone: TimeZoneName | None = Field(None, description="IANA zone; left out = keep the current one")

    @model_validator(mode="after")
    def _check(self):
        if (self.quiet_hours_start is None) != (self.quiet_hours_end is None):
            raise ValueError(N_("Quiet hours need both a start and an end time"))
        if self.quiet_hours_start is not None and self.quiet_hours_start == self.quiet_hours_end:
            raise ValueError(N_("Quiet hours must start and end at different times"))
        return self


class PreferencesOut(Preferences):
    model_config = ConfigDict(extra="ignore")
    timezone: str | None = None  # as stored, even a zone no longer offered
    updated_at: datetime | None = None


class Kind(BaseModel):
    key: str
    label: str
    defaults: dict[str, bool] = Field(default_factory=dict,
                                      description="channel -> on?, for a user without an override of this kind")


def check_kinds(prefs: Preferences, kinds: dict[str, str]) -> None:
    """Refuse overrides of kinds no enabled module sends (422 naming the field)."""
    unknown = sorted(set(prefs.trigger_overrides) - set(kinds))
    if unknown:
        raise ValidationFailed("trigger_overrides: unknown kind %(unknown)s (known: %(known)s)",
                               unknown=", ".join(map(repr, unknown)), known=", ".join(kinds) or "none")


def read_preferences_for(user_id: int, kinds: dict[str, str]) -> dict:
    rows = database.execute_query(Q["read_preferences"], {"user_id": user_id})
    if not rows:
        database.execute_update(Q["ensure_preferences"], {"user_id": user_id})
        rows = database.execute_query(Q["read_preferences"], {"user_id": user_id})
    row = rows[0]
    # Overrides of kinds whose module is disabled stay stored but are not shown.
    overrides = {k: v for k, v in (row["trigger_overrides"] or {}).items() if k in kinds}
    return {**row, "trigger_overrides": overrides}


def save_preferences(user_id: int, prefs: Preferences, kinds: dict[str, str]) -> dict:
    overrides = {k: {kk: vv for kk, vv in v.model_dump().items() if vv is not None}
                 for k, v in prefs.trigger_overrides.items()}
    overrides = {k: v for k, v in overrides.items() if v}
    with database.transaction():
        database.execute_update(Q["ensure_preferences"], {"user_id": user_id})
        database.execute_update(Q["update_preferences"], {
            "user_id": user_id, "in_app_enabled": prefs.in_app_enabled, "email_enabled": prefs.email_enabled,
            "quiet_hours_start": prefs.quiet_hours_start, "quiet_hours_end": prefs.quiet_hours_end,
            "max_per_hour": prefs.max_per_hour, "trigger_overrides": Jsonb(overrides),
        })
        if prefs.timezone is not None:
            database.execute_update(Q["update_user_timezone"], {"user_id": user_id, "timezone": prefs.timezone})
    return read_preferences_for(user_id, kinds)


@api.get("/kinds", response_model=list[Kind])
def read_notification_kinds(request: Request, user: CurrentUser) -> list[dict]:
    """The kinds of notification the enabled modules send (the keys of `trigger_overrides`)."""
    defaults = kind_defaults(request)
    return [{"key": k, "label": v, "defaults": defaults.get(k, {})} for k, v in notification_kinds(request).items()]


@api.get("/preferences", response_model=PreferencesOut)
def read_preferences(request: Request, user: CurrentUser) -> dict:
    return read_preferences_for(user.id, notification_kinds(request))


@api.put("/preferences", response_model=PreferencesOut)
def update_preferences(request: Request, body: Preferences, user: CurrentUser) -> dict:
    kinds = notification_kinds(request)
    check_kinds(body, kinds)
    return save_preferences(user.id, body, kinds)


# --- the preferences page ---------------------------------------------------------------

def _form_to_preferences(data: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    """The posted form as the API's JSON shape (validation happens in `Preferences`)."""
    out: dict[str, Any] = {
        "in_app_enabled": bool(data.get("in_app_enabled")),
        "email_enabled": bool(data.get("email_enabled")),
        "timezone": (data.get("timezone") or "").strip(),
        "quiet_hours_start": None,
        "quiet_hours_end": None,
        "max_per_hour": None,
        "trigger_overrides": {},
    }
    if data.get("quiet_hours_enabled"):
        out["quiet_hours_start"] = data.get("quiet_hours_start") or None
        out["quiet_hours_end"] = data.get("quiet_hours_end") or None
    raw_max = (data.get("max_per_hour") or "").strip()
    if raw_max:
        out["max_per_hour"] = int(raw_max) if raw_max.isdigit() and len(raw_max) < 7 else raw_max
    for trigger in kinds:
        override = {}
        for channel in ("in_app", "email"):
            choice = data.get(f"override_{trigger}_{channel}", "")
            if choice in ("on", "off"):
                override[channel] = choice == "on"
        if override:
            out["trigger_overrides"][trigger] = override
    return out


def _hhmm(value: Any) -> str:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value or "")[:5]


PREFERENCES_PAGE = "notifications/preferences.html"


def _context(prefs: dict, kinds: dict[str, str], defaults: dict[str, dict[str, bool]] | None = None) -> dict[str, Any]:
    prefs = {**prefs, "quiet_hours_start": _hhmm(prefs.get("quiet_hours_start")),
             "quiet_hours_end": _hhmm(prefs.get("quiet_hours_end"))}
    prefs.setdefault("quiet_hours_enabled", bool(prefs["quiet_hours_start"]))
    # The kinds' labels come from module.json, translated in the sending module's catalog.
    labels = {key: i18n.lookup(label) for key, label in kinds.items()}
    return {"prefs": prefs, "timezones": timezones(), "trigger_labels": labels, "trigger_defaults": defaults or {}}


@pages.get("/me/notifications")
def read_preferences_page(request: Request, user: CurrentUser):
    kinds = notification_kinds(request)
    return render(request, PREFERENCES_PAGE, _context(read_preferences_for(user.id, kinds), kinds,
                                                      kind_defaults(request)) | {"errors": {}})


@pages.post("/me/notifications")
def update_preferences_page(request: Request, user: CurrentUser, data: PostedForm):
    kinds = notification_kinds(request)
    shaped = _form_to_preferences(data, kinds)

    def context() -> dict[str, Any]:
        return _context({**shaped, "quiet_hours_enabled": bool(data.get("quiet_hours_enabled"))}, kinds,
                        kind_defaults(request))

    prefs = parse_form(Preferences, shaped, PREFERENCES_PAGE, context)
    with form_errors(PREFERENCES_PAGE, context):
        save_preferences(user.id, prefs, kinds)
    return RedirectResponse("/me/notifications?notice=saved", status_code=303)
