"""Reply-by-e-mail addresses: `reply+<token>@MAIL_REPLY_DOMAIN`.

The token is signed with the hub's secret (app.core.signing, its own purpose), binds the case
and the recipient, and expires like the e-mails' action links (signing.DEFAULT_MAX_AGE_S). It
is kept short ([case, user] as a JSON list) because an address's local part should stay under
64 characters; mail servers must keep its letter case (they do for the local part).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.core import signing
from app.core.config import get_settings

PURPOSE = "sag-reply"
LOCAL_PREFIX = "reply+"
# The token is URL-safe base64 segments joined by dots.
ADDRESS_RE = re.compile(r"^reply\+(?P<token>[A-Za-z0-9_\-.]{10,200})@(?P<domain>[^@\s]+)$", re.IGNORECASE)


class ReplyRefused(Exception):
    """A reply address that cannot be used; `code` is the SMTP reply code, the text says why."""

    def __init__(self, code: int, text: str):
        super().__init__(text)
        self.code = code
        self.text = text


@dataclass(frozen=True)
class ReplyTarget:
    sag_id: int
    user_id: int


def reply_address(sag_id: int, user_id: int, *, issued_at: float | None = None) -> str | None:
    """The reply address for this case and recipient, or None when MAIL_REPLY_DOMAIN is not set."""
    domain = get_settings().mail_reply_domain
    if not domain:
        return None
    return f"{LOCAL_PREFIX}{signing.sign(PURPOSE, [sag_id, user_id], issued_at=issued_at)}@{domain}"


def reply_headers(sag_id: int | None, user_id: int | None) -> dict[str, str]:
    """The Reply-To header of a notification e-mail to a user about a case ({} when none applies)."""
    if sag_id is None or user_id is None:
        return {}
    address = reply_address(sag_id, user_id)
    return {"Reply-To": address} if address else {}


def parse_address(address: str) -> ReplyTarget:
    """The case and user a reply address stands for; raises ReplyRefused (550) for anything else."""
    domain = (get_settings().mail_reply_domain or "").lower()
    match = ADDRESS_RE.match((address or "").strip())
    if not domain or match is None or match.group("domain").lower() != domain:
        raise ReplyRefused(550, "5.1.1 No such reply address here")
    try:
        data = signing.unsign(PURPOSE, match.group("token"))
    except signing.ExpiredToken:
        raise ReplyRefused(550, "5.7.1 This reply address has expired; open the case in the hub to add a note") \
            from None
    except signing.BadToken:
        raise ReplyRefused(550, "5.7.1 This reply address is not valid (unknown or altered token)") from None
    if (not isinstance(data, list) or len(data) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in data)):
        raise ReplyRefused(550, "5.7.1 This reply address is not valid (unknown or altered token)")
    return ReplyTarget(sag_id=data[0], user_id=data[1])
