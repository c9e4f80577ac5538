"""The signed-in user's live notifications: a Server-Sent-Events stream and the unread count.

`GET /api/v1/notifications/stream` streams the user's own in-app notifications (see
`app.core.realtime`; what an event carries comes from the feed of the module that sends it).
Events:

- `reminder` (with `id:` = the notification's id, so a reconnecting browser sends
  `Last-Event-ID` and gets what it missed replayed): a new notification to show (the
  name is older than the modules; kept so that tabs open during an upgrade keep working);
- `update`: the state of one of the user's notifications changed (seen, dismissed, ...);
- `hello`: sent on every (re)connect with the unread count;
- comment lines as heart-beats so proxies keep the connection open.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.core import realtime
from app.core.deps import CurrentUser

api = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

# Proxies commonly drop connections idle for 30-60 s; a comment line well before that.
HEARTBEAT_S = 15.0
# How long a browser waits before reconnecting after the stream broke.
RETRY_MS = 3000
# Ids a stream remembers so a replayed event is not sent twice on the same stream.
SENT_IDS_KEPT = 500


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


# The event that shows a new notification (see the module docstring for the name).
SHOW = "reminder"


async def _events(request: Request, user_id: int, last_id: int | None):
    hub = realtime.hub_of(request.app)
    # Subscribe before reading the backlog so nothing falls between the two.
    sub = hub.subscribe(user_id)
    sent: dict[int, None] = {}

    async def replay(after_id: int | None):
        # Asked afresh each time: a module enabled or disabled meanwhile counts (or not) at once.
        rows, unread = await run_in_threadpool(_backlog, realtime.feeds_of(request.app), user_id, after_id)
        for row in rows:
            if row["id"] not in sent:
                sent[row["id"]] = None
                yield _frame(SHOW, {**row, "replayed": True}, row["id"])
        yield _frame("hello", {"unread": unread})

    def newest() -> int | None:
        return max(sent) if sent else last_id

    try:
        yield f"retry: {RETRY_MS}\n\n"
        async for frame in replay(last_id):
            yield frame
        while not hub.closing:
            # asyncio.timeout, not wait_for: no extra task per wait (a thousand streams, each
            # woken by every heart-beat). A browser that has gone is noticed by the server's
            # listener for the disconnect, or else when the heart-beat cannot be written.
            try:
                async with asyncio.timeout(HEARTBEAT_S):
                    item = await sub.queue.get()
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if item == realtime.CLOSE:
                break
            if item == realtime.RESYNC:
                async for frame in replay(newest()):
                    yield frame
                continue
            kind = item.get("event", SHOW)
            log_id = item.get("id", item.get("log_id"))
            if kind == SHOW:
                if log_id in sent:
                    continue
                sent[log_id] = None
                if len(sent) > SENT_IDS_KEPT:
                    sent.pop(next(iter(sent)))
                yield _frame(SHOW, item, log_id)
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


def _backlog(feeds, user_id: int, after_id: int | None) -> tuple[list[dict[str, Any]], int]:
    """What the user's stream should (re)play from every feed, and the unread total."""
    rows = [row for _module, feed in feeds for row in feed.backlog(user_id, after_id)]
    return rows, _unread(feeds, user_id)


def _unread(feeds, user_id: int) -> int:
    return sum(feed.unread_count(user_id) for _module, feed in feeds)


@api.get("/unread_count")
def read_unread_count(request: Request, user: CurrentUser) -> dict:
    return {"unread": _unread(realtime.feeds_of(request.app), user.id)}
