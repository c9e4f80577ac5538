"""The signed-in user's notifications: the live event stream, preferences API and page.

`GET /api/v1/notifications/stream` is a Server-Sent-Events stream of the user's own
in-app notifications (see `app.core.realtime`). Events:

- `reminder` (with `id:` = the log row id, so a reconnecting browser sends `Last-Event-ID`
  and gets what it missed replayed): a new notification to show;
- `update`: the state of one of the user's notifications changed (seen, dismissed, ...);
- `hello`: sent on every (re)connect with the unread count;
- comment lines as heart-beats so proxies keep the connection open.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, time
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from psycopg.types.json import Jsonb
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    model_validator,
)
from starlette.concurrency import run_in_threadpool

from app.core import database, realtime
from app.core.config import get_settings
from app.core.deps import CurrentUser
from app.core.fields import TimeZoneName, one_of_shapes, whole_number
from app.core.forms import form_data, validation_messages
from app.core.queries import load_queries
from app.core.templating import render

Q = load_queries(Path(__file__).parents[1] / "queries" / "notifications.sql")

api = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
pages = APIRouter(include_in_schema=False)

# Proxies commonly drop connections idle for 30-60 s; a comment line well before that.
HEARTBEAT_S = 15.0
# How long a browser waits before reconnecting after the stream broke.
RETRY_MS = 3000
# Ids a stream remembers so a replayed event is not sent twice on the same stream.
SENT_IDS_KEPT = 500

TriggerType = Literal["status_change", "scheduled", "deadline", "recurring", "inactivity"]
TRIGGER_LABELS: dict[str, str] = {
    "status_change": "Status changes",
    "scheduled": "Scheduled reminders",
    "deadline": "Deadline reminders",
    "recurring": "Recurring reminders",
    "inactivity": "Inactive cases",
}


# --- the event stream -------------------------------------------------------------------

def _frame(event: str, data: dict[str, Any], event_id: Any = None) -> str:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {int(event_id)}")
    lines.append("data: " + json.dumps(data, default=str, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


def _parse_last_id(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 19 else None


async def _events(request: Request, user_id: int, last_id: int | None):
    hub = realtime.hub_of(request.app)
    # Subscribe before reading the backlog so nothing falls between the two.
    sub = hub.subscribe(user_id)
    sent: dict[int, None] = {}

    async def replay(after_id: int | None):
        feed = realtime.get_feed()
        if feed is None:
            yield _frame("hello", {"unread": 0})
            return
        rows = await run_in_threadpool(feed.backlog, user_id, after_id)
        unread = await run_in_threadpool(feed.unread_count, user_id)
        for row in rows:
            if row["id"] not in sent:
                sent[row["id"]] = None
                yield _frame("reminder", {**row, "replayed": True}, row["id"])
        yield _frame("hello", {"unread": unread})

    def newest() -> int | None:
        return max(sent) if sent else last_id

    try:
        yield f"retry: {RETRY_MS}\n\n"
        async for frame in replay(last_id):
            yield frame
        while not hub.closing:
            try:
                item = await asyncio.wait_for(sub.queue.get(), HEARTBEAT_S)
            except TimeoutError:
                if await request.is_disconnected():
                    break
                yield ": keep-alive\n\n"
                continue
            if item == realtime.CLOSE:
                break
            if item == realtime.RESYNC:
                async for frame in replay(newest()):
                    yield frame
                continue
            kind = item.get("event", "reminder")
            log_id = item.get("id", item.get("log_id"))
            if kind == "reminder":
                if log_id in sent:
                    continue
                sent[log_id] = None
                if len(sent) > SENT_IDS_KEPT:
                    sent.pop(next(iter(sent)))
                yield _frame("reminder", item, log_id)
            else:
                yield _frame("update", item)
    finally:
        hub.unsubscribe(sub)


@api.get("/stream")
async def read_notification_stream(
    request: Request,
    user: CurrentUser,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)] = None,
    after: Annotated[str | None, Query(max_length=40, description="Same as Last-Event-ID")] = None,
):
    """The signed-in user's own notifications as Server-Sent Events (see module docstring)."""
    last_id = _parse_last_id(last_event_id if last_event_id is not None else after)
    headers = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no",
               "Connection": "keep-alive"}
    return StreamingResponse(_events(request, user.id, last_id), media_type="text/event-stream",
                             headers=headers)


@api.get("/unread_count")
def read_unread_count(user: CurrentUser) -> dict:
    feed = realtime.get_feed()
    return {"unread": feed.unread_count(user.id) if feed is not None else 0}


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
        None, description="At most this many per hour; null = hub default")
    trigger_overrides: dict[TriggerType, TriggerOverride] = Field(default_factory=dict)
    # None (left out of a PUT) keeps the user's current zone rather than resetting it.
    timezone: TimeZoneName | None = Field(None, description="IANA zone; left out = keep the current one")

    @model_validator(mode="after")
    def _check(self):
        if (self.quiet_hours_start is None) != (self.quiet_hours_end is None):
            raise ValueError("Quiet hours need both a start and an end time")
        if self.quiet_hours_start is not None and self.quiet_hours_start == self.quiet_hours_end:
            raise ValueError("Quiet hours must start and end at different times")
        return self


class PreferencesOut(Preferences):
    model_config = ConfigDict(extra="ignore")
    timezone: str | None = None  # as stored, even a zone no longer offered
    hub_default_max_per_hour: int | None = None
    updated_at: datetime | None = None


def _hub_default_max() -> int | None:
    settings = get_settings()
    for name in ("reminder_max_per_hour", "notifications_max_per_hour", "rate_limit_per_hour"):
        value = getattr(settings, name, None)
        if isinstance(value, int):
            return value
    return None


def read_preferences_for(user_id: int) -> dict:
    rows = database.execute_query(Q["read_preferences"], {"user_id": user_id})
    if not rows:
        database.execute_update(Q["ensure_preferences"], {"user_id": user_id})
        rows = database.execute_query(Q["read_preferences"], {"user_id": user_id})
    row = rows[0]
    overrides = {k: v for k, v in (row["trigger_overrides"] or {}).items() if k in TRIGGER_LABELS}
    return {**row, "trigger_overrides": overrides, "hub_default_max_per_hour": _hub_default_max()}


def save_preferences(user_id: int, prefs: Preferences) -> dict:
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
    return read_preferences_for(user_id)


@api.get("/preferences", response_model=PreferencesOut)
def read_preferences(user: CurrentUser) -> dict:
    return read_preferences_for(user.id)


@api.put("/preferences", response_model=PreferencesOut)
def update_preferences(body: Preferences, user: CurrentUser) -> dict:
    return save_preferences(user.id, body)


# --- the preferences page ---------------------------------------------------------------

def _form_to_preferences(data: dict[str, Any]) -> dict[str, Any]:
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
    for trigger in TRIGGER_LABELS:
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


def _page(request: Request, prefs: dict, errors: dict[str, str], status: int = 200):
    prefs = {**prefs, "quiet_hours_start": _hhmm(prefs.get("quiet_hours_start")),
             "quiet_hours_end": _hhmm(prefs.get("quiet_hours_end"))}
    prefs.setdefault("quiet_hours_enabled", bool(prefs["quiet_hours_start"]))
    return render(request, "notifications/preferences.html", {
        "prefs": prefs, "errors": errors, "timezones": timezones(), "trigger_labels": TRIGGER_LABELS,
    }, status)


@pages.get("/me/notifications")
def read_preferences_page(request: Request, user: CurrentUser):
    return _page(request, read_preferences_for(user.id), {})


@pages.post("/me/notifications")
async def update_preferences_page(request: Request, user: CurrentUser):
    data = await form_data(request)
    shaped = _form_to_preferences(data)
    try:
        prefs = Preferences.model_validate(shaped)
    except ValidationError as exc:
        errors = validation_messages(exc)
        for err in exc.errors():
            if not err["loc"]:
                errors["__all__"] = err["msg"].removeprefix("Value error, ")
        return _page(request, {**shaped, "quiet_hours_enabled": bool(data.get("quiet_hours_enabled"))},
                     errors, 422)
    await run_in_threadpool(save_preferences, user.id, prefs)
    return RedirectResponse("/me/notifications?notice=saved", status_code=303)
