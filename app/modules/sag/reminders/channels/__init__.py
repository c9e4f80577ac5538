"""Delivery channels: the `Channel` protocol and the registry the reminder engine reads.

A channel says, as plain attributes, how the engine treats its log rows; the engine passes
these flags to the SQL that writes the rows (`sag_reminder_destinations`, `deliver_batch`),
so adding a channel never touches engine.py or the SQL:

- `preference`: the column of the core `user_notification_preferences` row that switches
  it on or off (None: on), overridden per kind by `trigger_overrides -> kind -> name`; a kind
  may be off by default on a channel (module.json `notification_kinds` "defaults");
- `quiet_hours`: during the user's quiet hours its rows are `deferred` and go out in the
  digest when they end;
- `rate_limited`: it counts against (and is held back by) the user's hourly limit;
- `external`: it also reaches a rule's external e-mail addresses (rows without a user);
- `pending`: its rows are written `pending` and handed to `deliver()` after the write, in
  chunks of `chunk_size` with the batch's lease renewed before each chunk; a row that
  fails keeps the event for a retry with back-off, while every other channel's rows are
  already written (a failing channel never delays the others). Without it the log row
  is the delivery (in-app: the row's insert trigger pushes it to the browser);
- `per_firing` (optional, default False): one row per event rather than per recipient, with
  no user (a chat or webhook destination, channels/destinations.py).

A channel may also have a `warm_up()` method, called once when a worker starts (`warm_up` below).

Built-in channels are one file each (in_app.py, email.py). Other modules add theirs
through the `"sag.channels"` extension point of their module.json. Admin-defined chat and
webhook destinations (channels/destinations.py) are channels named `dest:<slug>`, read from
the database when a batch or a rule names one.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import psycopg

from app.core.modules import current_host
from app.modules.sag.reminders.channels import destinations, email, in_app

log = logging.getLogger("app.modules.sag")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,19}$")  # as the CHECK on sag_reminder_logs.channel


@dataclass(frozen=True)
class DeliveryContext:
    """What a channel's deliver() may need beside its rows."""

    now: datetime
    worker_id: str


@dataclass
class Summary:
    """One notice listing several reminders (the quiet-hours digest, the held-back notice)."""

    title: str
    intro: str
    items: list[dict[str, Any]] = field(default_factory=list)


@runtime_checkable
class Channel(Protocol):
    name: str
    label: str
    preference: str | None
    quiet_hours: bool
    rate_limited: bool
    external: bool
    pending: bool
    chunk_size: int

    def deliver(self, conn: psycopg.Connection, rows: Sequence[dict[str, Any]],
                ctx: DeliveryContext) -> dict[int, str | None]:
        """Hand pending log rows (read_pending_rows) to the transport: {row id: None (sent) | error}."""
        ...

    def send_summary(self, user: dict[str, Any], summary: Summary) -> str | None:
        """Send one summary to a user (read_user_for_summary); None = sent, else the error."""
        ...


BUILT_IN: tuple[Channel, ...] = (in_app.CHANNEL, email.CHANNEL)


def extra_channels() -> list[Channel]:
    """Channels contributed by other modules (`"extensions": {"sag.channels": [...]}` in their
    module.json), while those modules are enabled."""
    return [channel for _module, channel in current_host().extensions("sag.channels")]


def registry(conn: psycopg.Connection | None = None, wanted: Iterable[str] = ()) -> dict[str, Channel]:
    """Every usable channel by name, built-in first (their order decides the held-back notice's channel).

    Destinations (`dest:<slug>`) are added only when `wanted` names one, read on `conn` (else the
    pool): they are the last, so a slow destination is handed its rows after e-mail.
    """
    channels = {c.name: c for c in BUILT_IN}
    for ch in extra_channels():
        if not isinstance(ch, Channel) or not NAME_RE.match(str(getattr(ch, "name", ""))):
            log.error("ignoring reminder channel %r: not a Channel with a name matching %s", ch, NAME_RE.pattern)
        elif ch.name in channels:
            log.error("ignoring reminder channel %r: the name is taken", ch.name)
        else:
            channels[ch.name] = ch
    slugs = {n[len(destinations.PREFIX):] for n in wanted if n.startswith(destinations.PREFIX)}
    if slugs:
        channels.update({c.name: c for c in destinations.load(conn, sorted(slugs))})
    return channels


def warm_up() -> None:
    """Let each channel get ready before a worker's first batch (an optional `warm_up()` of the
    channel: the e-mail channel builds a message, so the first batch does not pay for it)."""
    for channel in registry().values():
        prepare = getattr(channel, "warm_up", None)
        if callable(prepare):
            try:
                prepare()
            except Exception:  # noqa: BLE001 - a failed warm-up only leaves the cost to the first batch
                log.exception("reminder channel %s: warm-up failed", channel.name)


def kind_defaults() -> dict[str, dict[str, bool]]:
    """{channel: {kind: on?}} from the enabled modules' `notification_kinds` "defaults": what a
    user who has no override of that kind gets (a kind off by default stays off until overridden)."""
    out: dict[str, dict[str, bool]] = {}
    for kind in current_host().notification_kinds():
        for channel, on in (kind.get("defaults") or {}).items():
            out.setdefault(channel, {})[kind["key"]] = bool(on)
    return out


def sql_param(channels: dict[str, Channel]) -> str:
    """The channels' flags as the JSON array the SQL functions read (`jsonb_to_recordset`)."""
    defaults = kind_defaults()
    return json.dumps([{"name": c.name, "switch": c.preference, "quiet_hours": bool(c.quiet_hours),
                        "rate_limited": bool(c.rate_limited), "external": bool(c.external),
                        "pending": bool(c.pending), "kind_defaults": defaults.get(c.name, {}),
                         "per_firing": bool(getattr(c, "per_firing", False))}
                       for c in channels.values()])


def switched_on(channel: Channel, prefs: dict[str, Any] | None) -> bool:
    """The channel's own switch on a preferences row (no row, no switch: on)."""
    if not channel.preference or not prefs:
        return True
    value = prefs.get(channel.preference)
    return True if value is None else bool(value)
