"""Signed, expiring, purpose-bound tokens (for links in e-mails).

    token = sign("email-action", {"l": 12, "u": 3, "a": "acknowledge"})
    data = unsign("email-action", token)          # raises BadToken / ExpiredToken

The purpose is the signer's salt, so a token made for one purpose never verifies for
another. Tokens expire after `DEFAULT_MAX_AGE_S` unless the caller says otherwise.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from app.core.config import secret_key
from app.core.errors import HubError

DEFAULT_MAX_AGE_S = 7 * 24 * 3600
SALT_PREFIX = "bmc-hub:"
SERIALIZER_CACHE_SIZE = 32  # (purpose, secret) pairs kept


class BadToken(HubError):
    """The token was tampered with, made for another purpose, or is not a token at all."""

    status = 400


class ExpiredToken(BadToken):
    status = 410


class _FixedTimeSigner(TimestampSigner):
    # Lets callers (tests, back-dated links) choose the issue time instead of the wall clock.
    issued_at: float | None = None

    def get_timestamp(self) -> int:
        return int(self.issued_at if self.issued_at is not None else time.time())


def _serializer(purpose: str, issued_at: float | None = None) -> URLSafeTimedSerializer:
    if not purpose:
        raise ValueError("a token needs a purpose")
    if issued_at is None:
        return _current_serializer(purpose, secret_key())
    signer = type("_Signer", (_FixedTimeSigner,), {"issued_at": issued_at})
    return URLSafeTimedSerializer(secret_key(), salt=SALT_PREFIX + purpose, signer=signer)


class _OneSignerSerializer(URLSafeTimedSerializer):
    """Builds its signer once (itsdangerous builds one per token); the signer keeps no state."""

    def make_signer(self, salt=None):
        if salt is not None and salt != self.salt:
            return super().make_signer(salt)
        if not hasattr(self, "_signer"):
            self._signer = super().make_signer(salt)
        return self._signer


@lru_cache(maxsize=SERIALIZER_CACHE_SIZE)
def _current_serializer(purpose: str, key: str) -> URLSafeTimedSerializer:
    # Reminder e-mails sign four links each, thousands a second: building a signer class and a
    # signer per token was a fifth of an e-mail's cost. Keyed by the secret too, so a new key
    # takes effect.
    return _OneSignerSerializer(key, salt=SALT_PREFIX + purpose, signer=_FixedTimeSigner)


def sign(purpose: str, data: Any, *, issued_at: float | None = None) -> str:
    """A URL-safe token carrying `data` (JSON-serialisable), valid only for `purpose`."""
    return _serializer(purpose, issued_at).dumps(data)


def unsign(purpose: str, token: str, *, max_age_s: int = DEFAULT_MAX_AGE_S) -> Any:
    """The data in `token`; raises ExpiredToken or BadToken."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise BadToken("This link is not valid.")
    try:
        return _serializer(purpose).loads(token, max_age=max_age_s)
    except SignatureExpired as exc:
        raise ExpiredToken("This link has expired.") from exc
    except BadSignature as exc:
        raise BadToken("This link is not valid.") from exc
