"""Secrets kept in the database (a webhook URL with its token), sealed with a key derived from SECRET_KEY.

    token = seal("sag-destination", "https://hooks.example/abc")   # "v1.<base64>", safe to store
    url = unseal("sag-destination", token)                        # raises Unreadable if tampered with

`cryptography` is not a dependency of the hub, so the construction uses the standard library
only, and only primitives used as they are meant to be:

- keys: HKDF-SHA256 (RFC 5869) of SECRET_KEY, one encryption and one MAC key per purpose, so a
  value sealed for one purpose never opens for another and the two keys are independent;
- encryption: HMAC-SHA256 as a pseudo-random function in counter mode over a fresh random
  128-bit nonce (block i of the key stream is HMAC(enc_key, nonce || i)); a PRF in counter mode
  with a nonce that never repeats is a secure stream cipher;
- integrity: encrypt-then-MAC, HMAC-SHA256 with the MAC key over version, nonce and ciphertext,
  checked in constant time before anything is decrypted.

A changed SECRET_KEY makes sealed values unreadable (`Unreadable`): they have to be entered again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from app.core.config import secret_key
from app.core.errors import HubError

VERSION = b"v1"
NONCE_BYTES = 16
TAG_BYTES = 32
BLOCK_BYTES = 32  # one HMAC-SHA256 output per key-stream block
MAX_PLAINTEXT_BYTES = 64 * 1024
HKDF_SALT = b"bmc-hub:sealing"


class Unreadable(HubError):
    """The sealed value was tampered with, sealed for another purpose, or under another SECRET_KEY."""

    status = 422


def _hkdf(ikm: bytes, info: bytes, length: int = 32) -> bytes:
    prk = hmac.new(HKDF_SALT, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def _keys(purpose: str) -> tuple[bytes, bytes]:
    if not purpose:
        raise ValueError("sealing needs a purpose")
    ikm = secret_key().encode()
    return _hkdf(ikm, f"{purpose}:enc".encode()), _hkdf(ikm, f"{purpose}:mac".encode())


def _keystream_xor(key: bytes, nonce: bytes, data: bytes) -> bytes:
    out = bytearray()
    for i in range(0, len(data), BLOCK_BYTES):
        block = hmac.new(key, nonce + (i // BLOCK_BYTES).to_bytes(8, "big"), hashlib.sha256).digest()
        out.extend(a ^ b for a, b in zip(data[i:i + BLOCK_BYTES], block, strict=False))
    return bytes(out)


def seal(purpose: str, plaintext: str) -> str:
    data = plaintext.encode("utf-8")
    if len(data) > MAX_PLAINTEXT_BYTES:
        raise ValueError("value too long to seal")
    enc_key, mac_key = _keys(purpose)
    nonce = secrets.token_bytes(NONCE_BYTES)
    body = nonce + _keystream_xor(enc_key, nonce, data)
    tag = hmac.new(mac_key, VERSION + body, hashlib.sha256).digest()
    return VERSION.decode() + "." + base64.urlsafe_b64encode(body + tag).decode()


def unseal(purpose: str, token: str) -> str:
    version, _, encoded = str(token).partition(".")
    try:
        raw = base64.urlsafe_b64decode(encoded.encode())
    except (ValueError, TypeError):
        raise Unreadable("the sealed value is damaged") from None
    if version.encode() != VERSION or len(raw) < NONCE_BYTES + TAG_BYTES:
        raise Unreadable("the sealed value is damaged")
    body, tag = raw[:-TAG_BYTES], raw[-TAG_BYTES:]
    enc_key, mac_key = _keys(purpose)
    if not hmac.compare_digest(tag, hmac.new(mac_key, VERSION + body, hashlib.sha256).digest()):
        raise Unreadable("the sealed value cannot be opened (tampered with, or SECRET_KEY changed)")
    nonce, ciphertext = body[:NONCE_BYTES], body[NONCE_BYTES:]
    return _keystream_xor(enc_key, nonce, ciphertext).decode("utf-8")
