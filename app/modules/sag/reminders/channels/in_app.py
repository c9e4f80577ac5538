"""The in-app channel: the log row is the delivery.

Writing a `sent` row is all it takes: the row's insert trigger (`sag_reminder_logs_notify_insert`)
NOTIFYs `bmc_user_notifications`, the core SSE hub pushes it, and the browser shows the toast;
a user who is offline sees it in the bell and the reminder list on the next page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg

from app.core.i18n import lazy_gettext

if TYPE_CHECKING:
    from app.modules.sag.reminders.channels import DeliveryContext, Summary


class InApp:
    name = "in_app"
    label = lazy_gettext("In the browser")
    preference = "in_app_enabled"
    quiet_hours = False  # a toast is silent; quiet hours hold back e-mails only
    rate_limited = True
    external = False
    pending = False
    chunk_size = 1

    def deliver(self, conn: psycopg.Connection, rows: Sequence[dict[str, Any]],
                ctx: DeliveryContext) -> dict[int, str | None]:
        # Rows of a channel that is not `pending` are never handed over: they are sent when written.
        return dict.fromkeys((r["id"] for r in rows), None)

    def send_summary(self, user: dict[str, Any], summary: Summary) -> str | None:
        # The summary's own log row, written `sent`, is pushed like any in-app reminder.
        return None


CHANNEL = InApp()
