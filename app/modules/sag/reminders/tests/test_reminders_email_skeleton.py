"""Reminder e-mails from the templates' skeletons are byte for byte the plain Jinja render,
CSS-inlined and encoded, for any case text, in both languages (core/skeleton.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.modules.sag.reminders import email

PIECES = st.sampled_from(list("aæøåÆØÅ <>&\"'=;#/\n\t\xa0é€😀x0\r\x00\x0c")
                         + ["&amp;", "<b>bold</b>", "</td>", "<!--", "{{ x }}", "Lorem ipsum dolor sit amet " * 8,
                            " \n", "=20", "https://hub.test/a?b=1&c=2"])
TEXTS = st.one_of(st.just(""), st.lists(PIECES, max_size=30).map("".join), st.text(max_size=40))
ROWS = st.fixed_dictionaries({
    "id": st.integers(1, 10**9), "event_id": st.integers(1, 10**6), "sag_id": st.integers(1, 10**7),
    "case_title": TEXTS, "customer_name": st.one_of(st.none(), TEXTS), "status": st.sampled_from(["open", "x<y>"]),
    "status_label": TEXTS, "status_label_da": st.one_of(st.none(), TEXTS),
    "case_priority": st.sampled_from([None, "low", "normal", "high", "urgent", "odd & <new>"]),
    "deadline": st.one_of(st.none(), st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                                                  timezones=st.just(UTC))),
    "timezone": st.sampled_from([None, "Europe/Copenhagen", "America/New_York", "Asia/Kolkata", "Not/AZone"]),
    "assignee_name": st.one_of(st.none(), TEXTS),
    "description": st.one_of(st.none(), TEXTS, TEXTS.map(lambda t: t * 30)),
    "user_id": st.one_of(st.none(), st.integers(1, 10**6)), "title": TEXTS, "message": st.one_of(st.none(), TEXTS),
    "escalated": st.booleans(), "language": st.sampled_from(["da", "en", None]),
}, optional={"rule_id": st.one_of(st.none(), st.integers(1, 1000))})


def _both(row: dict) -> tuple[list[bytes], list[bytes]]:
    with email.speaking(email.recipient_language(row)) as language:
        ctx = email._context(email._event_view(row))
        tokens = email._tokens(row)
        fast = email._skeletons.bodies(ctx, key=(language, email._catalog.get()))
        plain = email._skeletons.plain(ctx)
    return [b.fill(tokens).data for b in fast], [b.fill(tokens).data for b in plain]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(row=ROWS)
def test_skeleton_bodies_are_the_plain_render(app, row):
    fast, plain = _both(row)
    assert fast == plain


def test_shapes_are_few_and_reused(app):
    base = {"id": 1, "event_id": 1, "sag_id": 7, "case_title": "Printer", "customer_name": "Acme",
            "status": "open", "status_label": "Open", "status_label_da": "Åben", "case_priority": "high",
            "deadline": datetime(2026, 12, 3, 12, tzinfo=UTC), "timezone": "Europe/Copenhagen",
            "assignee_name": "Ane", "description": "x", "user_id": 3, "rule_id": 1, "title": "T",
            "message": "M", "escalated": False, "language": "da"}
    _both(base)
    before = len(email._skeletons.skeletons)
    for n in range(1, 21):  # other events, other text: the same shape
        fast, plain = _both(dict(base, id=n, sag_id=n, case_title=f"Sag <{n}> & co", message=f"Besked {n}\nlinje 2"))
        assert fast == plain
    assert len(email._skeletons.skeletons) == before
    # What the templates branch on, found by tracing: the priority (a lookup, a class) and the language.
    assert {("case", "priority"), ("lang",)} <= email._skeletons.keyed
    assert ("case", "title") not in email._skeletons.keyed and ("message",) not in email._skeletons.keyed


def test_reminder_message_for_external_and_danish_user(app):
    row = {"id": 5, "event_id": 2, "sag_id": 9, "case_title": "Server <nede>", "customer_name": "Ø&Co",
           "status": "open", "status_label": "Open", "status_label_da": "Åben", "case_priority": "urgent",
           "deadline": None, "timezone": None, "assignee_name": None, "description": "", "title": "Nu!",
           "message": "", "escalated": True, "language": "da", "email": "x@example.test", "user_name": None}
    for user_id in (None, 4):
        msg = email.reminder_message(dict(row, user_id=user_id, trigger_type="status_change"))
        body = msg.data.decode()
        assert "Server &lt;nede&gt;" in body.replace("=\r\n", "") and "eskaleret" in body
