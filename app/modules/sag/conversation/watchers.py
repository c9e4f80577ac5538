"""Watching a case: the functions, the API (`/api/v1/sag/{id}/watch`, `/watchers`) and the case
page's Watch/Unwatch forms (`/sag/{id}/watch`, `/sag/{id}/unwatch`).

Watchers get the `watch` notifications (new notes, status changes; conversation/mentions.py).
The assignee, the creator, note authors and mentioned users are added automatically (triggers
and the mention handler) unless they unwatched the case: unwatching keeps the row with
`unwatched`, and only an explicit Watch clears it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from app.core import database
from app.core.deps import CurrentUser
from app.core.errors import NotFound
from app.core.queries import load_queries

Q = load_queries(Path(__file__).parent / "queries" / "watchers.sql")

api = APIRouter(tags=["sag"])
pages = APIRouter()


class Watcher(BaseModel):
    user_id: int
    username: str
    name: str
    reason: str


class WatchState(BaseModel):
    watching: bool
    count: int


def _case(sag_id: int) -> None:
    if not database.execute_query(Q["case_exists"], {"sag_id": sag_id}):
        raise NotFound("Case %(id)s not found", id=sag_id)


def watch(sag_id: int, user_id: int) -> None:
    _case(sag_id)
    database.execute_query(Q["watch"], {"sag_id": sag_id, "user_id": user_id})


def unwatch(sag_id: int, user_id: int) -> None:
    _case(sag_id)
    database.execute_update(Q["unwatch"], {"sag_id": sag_id, "user_id": user_id})


def watchers(sag_id: int) -> list[dict[str, Any]]:
    _case(sag_id)
    return database.execute_query(Q["list_watchers"], {"sag_id": sag_id})


def page_state(sag_id: int, user_id: int) -> dict[str, Any]:
    """{"watching", "count"} for the case page's button."""
    return database.execute_query(Q["watch_state"], {"sag_id": sag_id, "user_id": user_id})[0]


@api.put("/{case_id:int}/watch", response_model=WatchState)
def watch_case(case_id: int, user: CurrentUser) -> dict[str, Any]:
    """Watch the case: its new notes and status changes notify you (kind `watch`)."""
    watch(case_id, user.id)
    return page_state(case_id, user.id)


@api.delete("/{case_id:int}/watch", response_model=WatchState)
def unwatch_case(case_id: int, user: CurrentUser) -> dict[str, Any]:
    """Stop watching the case; you are not added back automatically (as assignee, by a mention ...)."""
    unwatch(case_id, user.id)
    return page_state(case_id, user.id)


@api.get("/{case_id:int}/watchers", response_model=list[Watcher])
def read_watchers(case_id: int, user: CurrentUser) -> list[dict[str, Any]]:
    return watchers(case_id)


@pages.post("/{case_id:int}/watch")
def watch_case_page(case_id: int, user: CurrentUser):
    watch(case_id, user.id)
    return RedirectResponse(f"/sag/{case_id}", status_code=303)


@pages.post("/{case_id:int}/unwatch")
def unwatch_case_page(case_id: int, user: CurrentUser):
    unwatch(case_id, user.id)
    return RedirectResponse(f"/sag/{case_id}", status_code=303)
