"""Signed link tokens (core/signing.py): compact, strict, and links mailed in the earlier format keep working."""

from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from app.core import signing
from app.core.config import secret_key

DATA = {"l": 12, "u": 3, "a": "acknowledge"}


def test_token_round_trips_and_is_url_safe(app):
    token = signing.sign("test-purpose", DATA)
    assert signing.unsign("test-purpose", token) == DATA
    assert all(c.isalnum() or c in "-_." for c in token)


def test_token_for_another_purpose_is_refused(app):
    with pytest.raises(signing.BadToken):
        signing.unsign("other-purpose", signing.sign("test-purpose", DATA))


def test_every_changed_character_is_refused(app):
    token = signing.sign("test-purpose", DATA)
    for i, c in enumerate(token):
        for other in ("A", "B", "Q", "R", "g", "h", "w", "x"):
            if other == c:
                continue
            changed = token[:i] + other + token[i + 1:]
            with pytest.raises(signing.BadToken):
                signing.unsign("test-purpose", changed)


def test_expired_token_is_refused_as_expired(app):
    token = signing.sign("test-purpose", DATA, issued_at=time.time() - signing.DEFAULT_MAX_AGE_S - 60)
    with pytest.raises(signing.ExpiredToken):
        signing.unsign("test-purpose", token)
    assert signing.unsign("test-purpose", token, max_age_s=signing.DEFAULT_MAX_AGE_S + 120) == DATA


def test_token_issued_in_the_future_is_refused(app):
    with pytest.raises(signing.BadToken):
        signing.unsign("test-purpose", signing.sign("test-purpose", DATA, issued_at=time.time() + 3600))


def test_not_a_token_is_refused(app):
    for bad in ("", "x", "a.b.c", "..", "é.é.é", "a" * 5000):
        with pytest.raises(signing.BadToken):
            signing.unsign("test-purpose", bad)


def test_tokens_of_the_earlier_format_still_verify(app):
    # Links in e-mails sent before the compact format (itsdangerous) work until they expire.
    earlier = URLSafeTimedSerializer(secret_key(), salt=signing.SALT_PREFIX + "test-purpose")
    assert signing.unsign("test-purpose", earlier.dumps(DATA)) == DATA
    with pytest.raises(signing.BadToken):
        signing.unsign("other-purpose", earlier.dumps(DATA))


def test_token_mac_is_hmac_sha256_with_the_purpose_key(app):
    # The MAC made from precomputed pads is the standard HMAC: tokens mailed before still verify.
    import base64
    import hashlib
    import hmac

    token = signing.sign("test-purpose", DATA)
    signed, _, mac = token.rpartition(".")
    key = hmac.new(secret_key().encode(), signing.KEY_LABEL + b"test-purpose", hashlib.sha256).digest()
    expected = hmac.new(key, signed.encode(), hashlib.sha256).digest()[:signing.MAC_BYTES]
    assert mac == base64.urlsafe_b64encode(expected).decode().rstrip("=")


def test_signer_makes_the_tokens_sign_makes(app):
    issued = time.time() - 5
    signer = signing.Signer("test-purpose", issued_at=issued)
    for data in (DATA, {"l": 10**12, "u": 7}, ["a", 1], {"k": "status_change", "u": 3}):
        assert signer.sign(data) == signing.sign("test-purpose", data, issued_at=issued)
        assert signing.unsign("test-purpose", signer.sign(data)) == data
    assert signer.sign_json(b'{"l":12,"u":3}') == signer.sign({"l": 12, "u": 3})
    with pytest.raises(ValueError):
        signing.Signer("")
