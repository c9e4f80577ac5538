"""Cutting the quoted message and the signature off an e-mail reply (conversation/reply_text.py)."""

from __future__ import annotations

import pytest

from app.modules.sag.conversation.reply_text import strip_reply


@pytest.mark.parametrize("quote", [
    "On Tue, 1 Dec 2026 at 10:00, BMC Hub <hub@localhost> wrote:\n> old text",
    "On Tue, 1 Dec 2026 at 10:00, Anna Jensen <anna@example.test>\nwrote:\n> old text",
    "Den tir. 1. dec. 2026 kl. 10.00 skrev BMC Hub <hub@localhost>:\n> gammel tekst",
    "-----Original Message-----\nFrom: BMC Hub\nold text",
    "________________________________\nFrom: BMC Hub <hub@localhost>\nSent: 1 December 2026\nold text",
    "From: BMC Hub <hub@localhost>\nSent: Tuesday, 1 December 2026 10:00\nTo: Anna\nold text",
    "Fra: BMC Hub <hub@localhost>\nSendt: 1. december 2026\nold text",
])
def test_the_quoted_message_is_cut_off(quote):
    assert strip_reply(f"New text\nsecond line\n\n{quote}\nmore old") == "New text\nsecond line"


def test_signature_after_the_delimiter_is_cut_off():
    assert strip_reply("Thanks\n-- \nAnna Jensen\nBMC IT") == "Thanks"


def test_a_phone_footer_is_cut_off():
    assert strip_reply("OK, done\n\nSent from my iPhone") == "OK, done"
    assert strip_reply("Klaret\n\nSendt fra min iPhone") == "Klaret"


def test_quoted_lines_are_dropped_and_line_breaks_normalised():
    assert strip_reply("> earlier\r\nMine\r\n>> older\r\nalso mine\r\n") == "Mine\nalso mine"


def test_a_from_line_in_the_text_itself_is_kept():
    assert strip_reply("From: the server room, all good.\nBye") == "From: the server room, all good.\nBye"


def test_only_a_quote_leaves_nothing():
    assert strip_reply("On Mon, 30 Nov 2026, Hub wrote:\n> hi") == ""
