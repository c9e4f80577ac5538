"""Note bodies are text: markup in them is shown, never run, on the case page and in the API's
body_html; links get rel=noopener and only http(s) becomes a link."""

import pytest

from app.core import database
from app.modules.sag.conversation.render import mentioned_handles, note_html
from tests.fixtures import login, make_user

PAYLOADS = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "javascript:alert(1)",
    '"><svg onload=alert(1)>',
    "https://example.test/\"onmouseover=\"alert(1)",
    '@"<b>Bold</b>"',
    "{{ 7*7 }} {% raw %}",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_inert_in_note_html(payload):
    html = str(note_html(payload))
    assert "<script" not in html and "<img" not in html and "<svg" not in html and "<b>" not in html
    assert 'href="javascript' not in html
    assert "onerror=\"" not in html and "onmouseover=\"" not in html


def test_payloads_are_inert_on_the_case_page(client):
    user = make_user()
    login(client, user)
    case_id = database.execute_insert("INSERT INTO sag_sager (title) VALUES ('XSS-prøve') RETURNING id")
    for payload in PAYLOADS:
        database.execute_insert("INSERT INTO sag_notes (sag_id, author_id, body) VALUES (%s, %s, %s)",
                                (case_id, user["id"], payload))
    page = client.get(f"/sag/{case_id}").text
    body = page[page.index('id="caseTimeline"'):page.index('id="noteForm"')]
    assert "<script>alert" not in body and "<img src=x" not in body and "<svg onload" not in body
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in body
    assert "{{ 7*7 }}" in body  # not evaluated as a template either


def test_links_and_mentions_are_rendered_safely():
    html = str(note_html('Se https://example.test/a?b=1&c=2, og spørg @lars eller @"Mette Hansen".\nTak'))
    assert ('<a href="https://example.test/a?b=1&amp;c=2" rel="noopener noreferrer" target="_blank">'
            'https://example.test/a?b=1&amp;c=2</a>,') in html
    assert '<span class="note-mention">@lars</span>' in html
    assert '<span class="note-mention">@&#34;Mette Hansen&#34;</span>' in html
    assert html.endswith("<br>\nTak")


def test_mentioned_handles_finds_usernames_and_quoted_names_once():
    body = 'Hej @lars, @"Mette Hansen" og @LARS; mail lars@example.test. Spørg @sofie.'
    assert mentioned_handles(body) == ["lars", "Mette Hansen", "sofie"]
    assert mentioned_handles("ingen her") == []
