"""Signed, expiring, purpose-bound tokens (for links in e-mails).

    token = sign("email-action", {"l": 12, "u": 3, "a": "acknowledge"})
    data = unsign("email-action", token)          # raises BadToken / ExpiredToken

A token is three URL-safe base64 fields joined by dots: the data as compact JSON, the issue
time (seconds, big-endian) and a MAC: HMAC-SHA256 over the first two fields, truncated to
`MAC_BYTES`, with a key derived from the hub's secret and the purpose. So a token made for one
purpose never verifies for another, and any changed character fails the MAC. Tokens expire
after `DEFAULT_MAX_AGE_S` unless the caller says otherwise.

Reminder e-mails carry a token or two each, thousands a second: the format is built with a
few hashlib/binascii calls (itsdangerous, used before, spent most of a token on a signer
object, zlib and padding), and `Signer` makes many tokens of one purpose in one go:

    signer = Signer("email-links")           # the key's HMAC pads and the issue time, once
    tokens = [signer.sign({"l": n, "u": 3}) for n in log_ids]

Tokens of the earlier format, still in mailboxes, keep verifying (`_legacy_unsign`) until
they expire.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.core.config import secret_key
from app.core.errors import HubError

DEFAULT_MAX_AGE_S = 7 * 24 * 3600
SALT_PREFIX = "bmc-hub:"
KEY_LABEL = b"bmc-hub token v2:"  # separates this format's keys from any other use of the secret
MAC_BYTES = 16  # 128 bits of HMAC-SHA256
TS_BYTES = 5  # issue time in seconds: enough until the year 36812
MAX_TOKEN_CHARS = 4096
KEY_CACHE_SIZE = 32  # (purpose, secret) pairs kept
FUTURE_SKEW_S = 60  # a token issued this far "in the future" (clocks of several hosts) still verifies


class BadToken(HubError):
    """The token was tampered with, made for another purpose, or is not a token at all."""

    status = 400


class ExpiredToken(BadToken):
    status = 410


@lru_cache(maxsize=KEY_CACHE_SIZE)
def _pads(purpose: str, key: str) -> tuple[Any, Any]:
    """HMAC-SHA256 (RFC 2104) of the purpose's key as its two hash states, the key already
    absorbed: a MAC is then two hash copies (stdlib hmac's copy costs twice as much, and keying
    anew per token four times). Keyed by the secret too, so a new key takes effect."""
    derived = hmac.new(key.encode("utf-8"), KEY_LABEL + purpose.encode("utf-8"), hashlib.sha256).digest()
    block = derived.ljust(hashlib.sha256().block_size, b"\0")  # a 32-byte key is padded, never hashed
    return (hashlib.sha256(bytes(b ^ 0x36 for b in block)), hashlib.sha256(bytes(b ^ 0x5C for b in block)))


_to_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_PLAIN = re.compile(r"[A-Za-z0-9_\-]*").fullmatch  # JSON writes these strings as they are


def _json(data: Any) -> bytes:
    """`data` as compact JSON; a flat dict of plain names and ints (a link's) written directly,
    the same text as the encoder's at a tenth of its cost."""
    if type(data) is dict:
        parts = []
        for key, value in data.items():
            if type(key) is not str or not _PLAIN(key):
                break
            if type(value) is int:
                parts.append(f'"{key}":{value}')
            elif type(value) is str and _PLAIN(value):
                parts.append(f'"{key}":"{value}"')
            else:
                break
        else:
            return ("{" + ",".join(parts) + "}").encode("ascii")
    return _to_json(data).encode("utf-8")


def _b64_bytes(raw: bytes) -> bytes:
    # base64.urlsafe_b64encode's work without its Python layers (a token has two of these).
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=")


def _b64(raw: bytes) -> str:
    return _b64_bytes(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@lru_cache(maxsize=4)
def _ts_field(ts: int) -> bytes:
    return b"." + _b64_bytes(ts.to_bytes(TS_BYTES, "big"))  # the same for every token of a second


def _mac_with(pads: tuple[Any, Any], signed: bytes) -> bytes:
    inner, outer = pads[0].copy(), pads[1].copy()
    inner.update(signed)
    outer.update(inner.digest())
    return outer.digest()[:MAC_BYTES]


def _mac(purpose: str, signed: bytes) -> bytes:
    return _mac_with(_pads(purpose, secret_key()), signed)


def sign(purpose: str, data: Any, *, issued_at: float | None = None) -> str:
    """A URL-safe token carrying `data` (JSON-serialisable), valid only for `purpose`."""
    return Signer(purpose, issued_at=issued_at).sign(data)


class Signer:
    """`sign(purpose, data, issued_at=...)` for many tokens: the purpose's key and the issue
    time (now, unless given) are looked up once, when the signer is made. Thousands of
    reminder e-mails go out a second, a token each; a signer lives for one batch."""

    __slots__ = ("_pads", "_ts")

    def __init__(self, purpose: str, *, issued_at: float | None = None):
        if not purpose:
            raise ValueError("a token needs a purpose")
        self._pads = _pads(purpose, secret_key())
        self._ts = _ts_field(int(time.time() if issued_at is None else issued_at))

    def sign(self, data: Any) -> str:
        return self.sign_json(_json(data))

    def sign_json(self, payload: bytes) -> str:
        """The token of data whose compact JSON (as `_json` writes it) is `payload`."""
        inner, outer = self._pads[0].copy(), self._pads[1].copy()
        signed = _b64_bytes(payload) + self._ts
        inner.update(signed)
        outer.update(inner.digest())
        return (signed + b"." + _b64_bytes(outer.digest()[:MAC_BYTES])).decode("ascii")


def unsign(purpose: str, token: str, *, max_age_s: int = DEFAULT_MAX_AGE_S) -> Any:
    """The data in `token`; raises ExpiredToken or BadToken."""
    if not purpose:
        raise ValueError("a token needs a purpose")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise BadToken("This link is not valid.")
    signed, _, mac = token.rpartition(".")
    payload, _, ts_text = signed.partition(".")
    # Compared as text: base64 decoding ignores a last character's spare bits, so comparing
    # decoded bytes would accept more than one spelling of a MAC.
    ok = hmac.compare_digest(mac, _b64(_mac(purpose, signed.encode("ascii"))))
    if not ok or not payload or "." in ts_text:
        return _legacy_unsign(purpose, token, max_age_s)
    try:
        issued = int.from_bytes(_unb64(ts_text), "big")
        data = json.loads(_unb64(payload))
    except (binascii.Error, ValueError) as exc:  # a valid MAC over garbage: never made by sign()
        raise BadToken("This link is not valid.") from exc
    age = time.time() - issued
    if age > max_age_s:
        raise ExpiredToken("This link has expired.")
    if age < -FUTURE_SKEW_S:
        raise BadToken("This link is not valid.")
    return data


@lru_cache(maxsize=KEY_CACHE_SIZE)
def _legacy_serializer(purpose: str, key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt=SALT_PREFIX + purpose)


def _legacy_unsign(purpose: str, token: str, max_age_s: int) -> Any:
    """Tokens of the earlier itsdangerous format (links in e-mails sent before the change)."""
    try:
        return _legacy_serializer(purpose, secret_key()).loads(token, max_age=max_age_s)
    except SignatureExpired as exc:
        raise ExpiredToken("This link has expired.") from exc
    except BadSignature as exc:
        raise BadToken("This link is not valid.") from exc
