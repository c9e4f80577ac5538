"""The e-mail channel: rows are written `pending`, then sent over one SMTP connection per chunk.

The message (HTML and text parts, case details, signed action links) is built by
`reminders/email.py`; this file is only the channel's contract with the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg

from app.core import mail
from app.core.config import get_settings
from app.core.i18n import lazy_gettext
from app.modules.sag.reminders import email as messages

if TYPE_CHECKING:
    from app.modules.sag.reminders.channels import DeliveryContext, Summary

EMAIL_CHUNK = 50  # e-mails sent between two lease renewals (and over one SMTP connection)
FILE_CHUNK = 500  # e-mails written as .eml files between two lease renewals (no SMTP_HOST): milliseconds each
ERROR_MAX_CHARS = 1000


class Email:
    name = "email"
    label = lazy_gettext("E-mail")
    preference = "email_enabled"
    quiet_hours = True
    rate_limited = True
    external = True
    pending = True

    @property
    def chunk_size(self) -> int:
        # Each chunk costs two transactions (lease renewal, recorded outcome); files are fast to write.
        return EMAIL_CHUNK if get_settings().smtp_host else FILE_CHUNK

    def deliver(self, conn: psycopg.Connection, rows: Sequence[dict[str, Any]],
                ctx: DeliveryContext) -> dict[int, str | None]:
        results: dict[int, str | None] = {}
        built, outgoing = [], []
        for row, msg in zip(rows, messages.reminder_messages(list(rows)), strict=True):
            if isinstance(msg, Exception):  # one unbuildable e-mail is recorded, the rest go out
                results[row["id"]] = f"could not build e-mail: {type(msg).__name__}: {msg}"[:ERROR_MAX_CHARS]
            else:
                outgoing.append(msg)
                built.append(row)
        for row, err in zip(built, mail.send_messages(outgoing), strict=True):
            results[row["id"]] = err
        return results

    def warm_up(self) -> None:
        messages.warm_up()

    def send_summary(self, user: dict[str, Any], summary: Summary) -> str | None:
        return mail.send_message(messages.summary_message(to=user["email"], to_name=user["user_name"],
                                                          title=summary.title, intro=summary.intro,
                                                          items=summary.items,
                                                          language=messages.recipient_language(user)))


CHANNEL = Email()
