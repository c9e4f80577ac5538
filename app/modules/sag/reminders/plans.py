"""Which plans the worker's batch statements run on: generic ones for small batches.

The worker's connection prepares its statements (prepare_threshold 0). PostgreSQL then plans
a prepared statement afresh for each call's parameters (a custom plan) as long as that looks
cheaper than its one generic plan, and for reserve_rate it always does: a generic plan cannot
see how long the batch arrays are. For a large batch that is right (at 500 events the
generic plans were slower), but for the one event an idle worker wakes up for, planning
reserve_rate took 4-7 ms against 1 ms to run it, half of the commit -> log row latency
(docs/reminders.md, "Latency"). So up to SMALL_BATCH events the connection runs on its generic plans
(planned once per statement and connection, again after an ANALYZE of their tables); above
it PostgreSQL chooses as before. The setting changes only when a batch's size class differs
from the previous batch's, in one short transaction. It applies as well to the statements inside
the PL/pgSQL functions the worker calls (the reservation and the write, sag_reminder_reserve and
sag_reminder_deliver): their plans are cached per connection the same way.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

import psycopg

from app.modules.sag.reminders.events import alone

SMALL_BATCH = 10  # events; batches up to this size run on generic plans
GENERIC, CHOSEN = "force_generic_plan", "auto"

_modes: WeakKeyDictionary[psycopg.Connection, str] = WeakKeyDictionary()


def fit(conn: psycopg.Connection, events: int) -> None:
    """Set the connection's plan mode for a batch of `events` (a no-op when it is set already)."""
    mode = GENERIC if events <= SMALL_BATCH else CHOSEN
    if _modes.get(conn) == mode:
        return
    # Session-wide (not LOCAL): it stays for the following batches of the same size class.
    alone(conn, "SELECT set_config('plan_cache_mode', %s, false)", (mode,))
    _modes[conn] = mode
