"""Chat and webhook destinations of reminders: named Apprise URLs that rules use as channel `dest:<slug>`.

The URL carries the service's token: it is sealed before it is stored (app/core/sealing.py) and
never given out again, not even to admins; pages and the API show its scheme and host only
(from Apprise's privacy form of the URL, which masks tokens that sit in the host part).
The slug is made from the name when the destination is created and stays when it is renamed,
because rules name it. The channel itself is channels/destinations.py.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Annotated, Any
from urllib.parse import urlsplit

import psycopg
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core import database, i18n, sealing
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.modules.sag.reminders.channels import destinations as channel
from app.modules.sag.reminders.channels.destinations import PREFIX, SEAL_PURPOSE, Q
from app.modules.sag.reminders.email import speaking

NAME_MAX = 80
SLUG_MAX = 40
URL_MAX = 2000
RECENT_DELIVERIES = 25
TEST_TITLE = i18n.lazy_gettext("Test message from BMC Hub")
log = logging.getLogger("app.modules.sag")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=URL_MAX),
                Field(description="An Apprise URL, e.g. json://host/path or msteams://...; stored sealed, "
                                  "never returned")]


class DestinationIn(BaseModel):
    """A new destination: its name (the slug is made from it) and its Apprise URL."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    url: Url


class DestinationPatch(BaseModel):
    """A rename, and/or a new URL (left out: the stored URL stays)."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    url: Url | None = None


def slugify(name: str) -> str:
    """"Teams: Drift" -> "teams-drift" (ASCII letters and digits, dashes between words)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:SLUG_MAX].strip("-")


def describe_url(url: str) -> tuple[str, str]:
    """(scheme, host) of a valid Apprise URL, as shown from now on; 422 for anything else."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:
        raise ValidationFailed("url: not a URL (%(why)s)", field="url", why=str(exc)) from None
    if not scheme:
        raise ValidationFailed("url: an Apprise URL starts with its service, e.g. json://, form://, "
                               "msteams:// or slack://", field="url")
    plugin, why = channel.instantiate(url)
    if plugin is None:
        raise ValidationFailed("url: %(why)s", field="url", why=why)
    # The privacy form masks tokens Apprise knows of (Slack's first token is its "host").
    try:
        shown = urlsplit(plugin.url(privacy=True))
        host = (shown.hostname or "") + (f":{shown.port}" if shown.port else "")
    except ValueError as exc:
        raise ValidationFailed("url: not a valid Apprise URL (%(why)s)", field="url", why=str(exc)) from None
    return scheme, host[:255]


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "name", "slug", "channel", "url_scheme", "url_host", "rules",
                                "created_at", "updated_at")}


def list_destinations() -> list[dict[str, Any]]:
    return [_public(r) for r in database.execute_query(Q["list_destinations"], {"id": None})]


def get_destination(destination_id: int) -> dict[str, Any]:
    rows = database.execute_query(Q["list_destinations"], {"id": destination_id})
    if not rows:
        raise NotFound("destination %(id)s not found", id=destination_id)
    return _public(rows[0])


def _sealed(url: str) -> dict[str, str]:
    scheme, host = describe_url(url)
    return {"url_sealed": sealing.seal(SEAL_PURPOSE, url), "url_scheme": scheme, "url_host": host}


def _name_taken(name: str) -> Conflict:
    return Conflict("A destination named %(name)r (or one whose name gives the same channel) exists already",
                    field="name", name=name)


def create_destination(body: DestinationIn) -> dict[str, Any]:
    slug = slugify(body.name)
    if not slug:
        raise ValidationFailed("name: needs at least one letter or digit (the channel name is made from it)",
                               field="name")
    try:
        new_id = database.execute_insert(Q["insert_destination"], {"name": body.name, "slug": slug,
                                                                   **_sealed(body.url)})
    except psycopg.errors.UniqueViolation:
        raise _name_taken(body.name) from None
    return get_destination(new_id)


def update_destination(destination_id: int, body: DestinationPatch) -> dict[str, Any]:
    current = get_destination(destination_id)
    fields = {"url_sealed": None, "url_scheme": None, "url_host": None}
    if body.url is not None:
        fields = _sealed(body.url)
    try:
        database.execute_query(Q["update_destination"], {"id": destination_id, "name": body.name or current["name"],
                                                         **fields})
    except psycopg.errors.UniqueViolation:
        raise _name_taken(body.name or current["name"]) from None
    return get_destination(destination_id)


def delete_destination(destination_id: int) -> None:
    """Refused (409) while a rule names it: the rule would lose a channel without anyone noticing."""
    with database.transaction():
        rows = database.execute_query(Q["lock_destination"], {"id": destination_id})
        if not rows:
            raise NotFound("destination %(id)s not found", id=destination_id)
        if rows[0]["rules"]:
            raise Conflict("Rules still send to this destination: %(rules)s. Remove it from their channels first.",
                           rules=", ".join(rows[0]["rules"]))
        database.execute_update(Q["delete_destination"], {"id": destination_id})


def send_test(destination_id: int, user_name: str) -> str | None:
    """Send a test message now; None when the service took it, else the error (never the URL)."""
    rows = database.execute_query(Q["read_sealed_url"], {"id": destination_id})
    if not rows:
        raise NotFound("destination %(id)s not found", id=destination_id)
    dest = channel.Destination(rows[0])
    try:
        url = sealing.unseal(SEAL_PURPOSE, dest.url_sealed)
    except sealing.Unreadable as exc:
        return f"{exc}; save the destination's URL again"
    with speaking(i18n.default_language()):  # a chat room is read by many: the hub's language
        title = str(TEST_TITLE)
        body = i18n.gettext("%(user)s sent this test from the destination page of “%(name)s”. Rules deliver here "
                            "through the channel %(channel)s.", user=user_name, name=dest.label, channel=dest.name)
    error = channel.send_many([(url, title, body)])[0]
    log.info("reminder destination %s (%s): test message %s", dest.name, dest.where,
             "sent" if error is None else f"failed: {error}")
    return error


def recent_deliveries(slug: str, limit: int = RECENT_DELIVERIES) -> list[dict[str, Any]]:
    return database.execute_query(Q["recent_deliveries"], {"channel": PREFIX + slug, "limit": limit})
