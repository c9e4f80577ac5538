"""Sealed secrets (app/core/sealing.py): round trip, fresh nonce per seal, bound to purpose and
SECRET_KEY, and any tampering refused before decryption."""

from __future__ import annotations

import base64
import os

import pytest

from app.core import sealing
from app.core.config import reset_settings


def test_seal_round_trips_and_hides_the_plaintext():
    secret = "https://hooks.example/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX?æøå=1"
    token = sealing.seal("test", secret)
    assert token.startswith("v1.") and "hooks.example" not in token and "XXXX" not in token
    assert sealing.unseal("test", token) == secret


def test_sealing_the_same_value_twice_gives_different_tokens():
    assert sealing.seal("test", "same") != sealing.seal("test", "same")


def test_a_token_opens_only_for_its_purpose():
    token = sealing.seal("one", "value")
    with pytest.raises(sealing.Unreadable):
        sealing.unseal("two", token)


@pytest.mark.parametrize("change", ["flip_ciphertext", "flip_tag", "truncate", "version", "garbage"])
def test_tampered_tokens_are_refused(change):
    token = sealing.seal("test", "a secret long enough to span two key-stream blocks of thirty-two bytes")
    raw = bytearray(base64.urlsafe_b64decode(token[3:]))
    if change == "flip_ciphertext":
        raw[sealing.NONCE_BYTES + 1] ^= 1
    elif change == "flip_tag":
        raw[-1] ^= 1
    elif change == "truncate":
        raw = raw[:sealing.NONCE_BYTES + 4]
    bad = {"version": "v2." + token[3:], "garbage": "v1.!!!not base64"}.get(
        change, "v1." + base64.urlsafe_b64encode(bytes(raw)).decode())
    with pytest.raises(sealing.Unreadable):
        sealing.unseal("test", bad)


def test_another_secret_key_cannot_open_it():
    token = sealing.seal("test", "value")
    old = os.environ.get("SECRET_KEY")
    os.environ["SECRET_KEY"] = "a-different-key-for-this-test-only"
    reset_settings()
    try:
        with pytest.raises(sealing.Unreadable):
            sealing.unseal("test", token)
    finally:
        if old is None:
            os.environ.pop("SECRET_KEY", None)
        else:
            os.environ["SECRET_KEY"] = old
        reset_settings()
    assert sealing.unseal("test", token) == "value"
