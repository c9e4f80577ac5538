"""build_fast_message (core/mime.py): the same message as build_message, written straight to bytes."""

from __future__ import annotations

import email
from email import policy

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core import mail

NAME = 'Søren Ø, "on call"'
SUBJECT = "[#12] Printer på 2. sal er nede " + "x" * 90
TEXT = "Hej Søren\nThe case is urgent.\n" + "long line " * 20 + "\n.\nend"
HTML = ("<html><head><style>p { color: red; }</style></head>"
        "<body><p>Hej Søren</p><a href='https://hub.test/x?a=1&amp;b=2'>open</a></body></html>")


def _parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


def _norm(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip("\n")


def test_fast_message_reads_back_like_build_message(app):
    kwargs = dict(to="soren@example.test", to_name=NAME, subject=SUBJECT, text=TEXT, html=HTML,
                  headers={"X-BMC-Reminder-Log": "42", "Auto-Submitted": "auto-generated"})
    fast = _parse(mail.build_fast_message(**kwargs).data)
    slow = _parse(mail.build_message(**kwargs).as_bytes())
    for header in ("From", "Subject", "X-BMC-Reminder-Log", "Auto-Submitted"):
        assert str(fast[header]) == str(slow[header])
    assert fast["To"].addresses[0].addr_spec == slow["To"].addresses[0].addr_spec == "soren@example.test"
    # The name comes back whole (EmailMessage drops the quotes inside it).
    assert fast["To"].addresses[0].display_name == NAME
    assert fast["Message-ID"] and fast["Date"] and fast["Message-ID"] != slow["Message-ID"]
    assert fast.get_content_type() == "multipart/alternative"
    for kind in ("plain", "html"):
        assert _norm(fast.get_body((kind,)).get_content()) == _norm(slow.get_body((kind,)).get_content())
    html = fast.get_body(("html",)).get_content()
    assert 'style="color: red;"' in html and "<style" not in html


def test_fast_message_without_html_is_one_text_part(app):
    msg = _parse(mail.build_fast_message(to="a@example.test", subject="Hi", text="only text").data)
    assert msg.get_content_type() == "text/plain" and _norm(msg.get_content()) == "only text"


def test_fast_message_subject_cannot_inject_headers(app):
    msg = _parse(mail.build_fast_message(to="a@example.test", subject="Hi\r\nBcc: evil@example.test", text="x",
                                         headers={"X-Note": "a\nBcc: evil@example.test"}).data)
    assert "Bcc" not in msg.keys() and "\n" not in str(msg["Subject"]) and "\n" not in str(msg["X-Note"])


def test_fast_message_goes_to_the_file_backend(app):
    before = set(mail.mail_dir().glob("*.eml")) if mail.mail_dir().exists() else set()
    raw = mail.build_fast_message(to="file@example.test", subject="Filed", text="body")
    assert mail.send_messages([raw]) == [None]
    [path] = set(mail.mail_dir().glob("*.eml")) - before
    assert path.read_bytes() == raw.data


def test_encoded_template_fills_to_the_bytes_of_encoding_the_filled_body(app):
    import binascii

    from app.core.mime import QPTemplate

    marker = "MARKERabc123"
    body = ("Hej Søren = 1\n" + "long line " * 20 + "\n\tlink: https://hub.test/x/" + marker + " \n"
            + "trailing space \nmore " * 30 + marker + "\nend")
    value = "eyJsIjoxfQ.AGsPGZI.LtnJy93J5KTp4C5JJ2-nTQ"
    filled = body.replace(marker, value)
    expected = binascii.b2a_qp(filled.encode(), istext=True).decode()
    assert QPTemplate(body, (marker,)).fill({marker: value}).data == expected
    with_cr = body.replace("end", "a\rb")  # a lone CR: encoded whole, still the same bytes
    assert QPTemplate(with_cr, (marker,)).fill({marker: value}).data == binascii.b2a_qp(
        with_cr.replace(marker, value).encode(), istext=True).decode()


TOKEN_CHARS = "abcXYZ019_-."
LINE_PIECES = ["MARKa1", "MARKb2", " ", "=", "é", "ø", ".", "\t", "~", "^", "`", "|", "{", "}", "x" * 70, "\n", "abc"]


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.sampled_from(LINE_PIECES), max_size=40),
       values=st.fixed_dictionaries({"MARKa1": st.text(TOKEN_CHARS, max_size=90),
                                     "MARKb2": st.text(TOKEN_CHARS, max_size=90)}))
def test_encoded_template_fills_any_token_lengths_to_the_bytes_of_encoding_the_filled_body(pieces, values):
    import binascii

    from app.core.mime import QPTemplate

    body = "".join(pieces)
    template = QPTemplate(body, ("MARKa1", "MARKb2"))
    for _ in range(2):  # the second fill uses the layout kept from the first
        filled = body
        for marker, value in values.items():
            filled = filled.replace(marker, value)
        assert template.fill(values).data == binascii.b2a_qp(filled.encode(), istext=True).decode()
