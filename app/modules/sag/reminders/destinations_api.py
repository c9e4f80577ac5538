"""Destination API under /api/v1/sag/reminders/destinations: anyone signed in lists them (to pick a
channel for a rule), administrators create, change, delete and test them. The URL is write-only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from fastapi import Path as PathParam

from app.core.deps import AdminUser, CurrentUser
from app.modules.sag.reminders import destinations as store
from app.modules.sag.reminders.destinations import DestinationIn, DestinationPatch

router = APIRouter(prefix="/reminders/destinations", tags=["sag reminder destinations"])

Id = Annotated[int, PathParam(ge=1, le=2_147_483_647)]


@router.get("")
def read_destinations(user: CurrentUser) -> list[dict[str, Any]]:
    """Every destination with its channel name (`dest:<slug>`), scheme and host, and the rules that use it."""
    return store.list_destinations()


@router.post("", status_code=201)
def create_destination(body: DestinationIn, admin: AdminUser, response: Response) -> dict[str, Any]:
    """Create a destination; its slug (and channel name) is made from the name. The URL is not returned."""
    dest = store.create_destination(body)
    response.headers["Location"] = f"/api/v1/sag/reminders/destinations/{dest['id']}"
    return dest


@router.get("/{destination_id}")
def read_destination(destination_id: Id, user: CurrentUser) -> dict[str, Any]:
    return store.get_destination(destination_id)


@router.patch("/{destination_id}")
def update_destination(destination_id: Id, body: DestinationPatch, admin: AdminUser) -> dict[str, Any]:
    """Rename, and/or replace the URL (left out: it stays). The slug never changes."""
    return store.update_destination(destination_id, body)


@router.delete("/{destination_id}", status_code=204)
def delete_destination(destination_id: Id, admin: AdminUser) -> None:
    """409 while a rule sends to it."""
    store.delete_destination(destination_id)


@router.post("/{destination_id}/test")
def send_test_message(destination_id: Id, admin: AdminUser) -> dict[str, Any]:
    """Send a test message now and say whether the service took it (the error, if not)."""
    error = store.send_test(destination_id, admin.display_name)
    return {"sent": error is None, "error": error}
