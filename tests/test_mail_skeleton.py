"""core/skeleton.py: an e-mail rendered once per shape gives the bytes of rendering it plainly.

The reminder e-mail's own proof (its templates, both languages) is in
app/modules/sag/reminders/tests/test_reminders_email_skeleton.py.
"""

from __future__ import annotations

import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import DictLoader, Environment, select_autoescape

from app.core import mail
from app.core.skeleton import SkeletonMail

MARKER = "zzlinkmarker0123"
TEXT = "{{ title }}\n{% if note %}Note: {{ note }}\n{% endif %}Open: {{ link }}\nCount: {{ count }}\n"
HTML = """<html lang="en"><head><title>{{ title }}</title>
<style>.big { font-size: 20px; } .prio-high { color: red; } p { margin: 0; }</style></head>
<body><h1 class="big">{{ title }}</h1>
{% if note %}<p>{{ note }}</p>{% endif %}
<p class="prio-{{ prio }}">{{ names.get(prio, prio) }}</p>
<a href="{{ link }}" class="big">open</a> <span>{{ count }}</span>
</body></html>
"""
NAMES = {"high": "HIGH!", "low": "low"}
# Hostile HTML, quotes, Danish letters, no-break and other spaces, emoji, newlines, long runs.
PIECES = st.sampled_from(list("aæøåÆØÅ <>&\"'=;#/\n\t\xa0\u2028é€😀xyz0\r\x00")
                        + ["&amp;", "<b>", "</p>", "-->", "x" * 90, " \n", "=20"])
TEXTS = st.one_of(st.lists(PIECES, max_size=40).map("".join), st.text(max_size=30))


def _env(templates: dict[str, str]) -> Environment:
    return Environment(loader=DictLoader(templates), autoescape=select_autoescape(enabled_extensions=("html",)),
                       trim_blocks=True, lstrip_blocks=True)


def _mail(templates: dict[str, str] | None = None) -> SkeletonMail:
    env = _env(templates or {"m.txt": TEXT, "m.html": HTML})
    return SkeletonMail(lambda: (env.get_template("m.txt"), env.get_template("m.html")),
                        markers=(MARKER,), inline=mail.inline_css)


def _same(skeletons: SkeletonMail, ctx: dict, token: str = "tok.en-_1") -> None:
    fast = [body.fill({MARKER: token}).data for body in skeletons.bodies(ctx, key=("en",))]
    plain = [body.fill({MARKER: token}).data for body in skeletons.plain(ctx)]
    assert fast == plain


def _ctx(title: str, note: str, prio: str, count: int | str, link: str = f"https://hub.test/x?a=1&b={MARKER}"):
    return {"title": title, "note": note, "prio": prio, "count": count, "link": link, "names": NAMES}


SHARED = _mail()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=TEXTS, note=TEXTS, prio=st.sampled_from(["high", "low", "other", "", "<x>"]),
       count=st.one_of(st.integers(-5, 10**9), TEXTS), link=st.one_of(TEXTS, st.just(f"https://h.test/{MARKER}")))
def test_skeleton_gives_the_plain_render_for_any_values(title, note, prio, count, link):
    _same(SHARED, _ctx(title, note, prio, count, link))


def test_a_leaf_used_beyond_printing_is_keyed_by_its_value():
    skeletons = _mail()
    for prio in ("high", "low", "high", "other"):
        _same(skeletons, _ctx("T", "n", prio, 3))
    # names.get(prio) hashed it; class="prio-..." printed it in an attribute a style sheet selects on.
    assert ("prio",) in skeletons.keyed
    assert ("title",) not in skeletons.keyed and ("link",) not in skeletons.keyed
    shapes = len(skeletons.skeletons)
    _same(skeletons, _ctx("Another title", "other note", "high", 99))
    assert len(skeletons.skeletons) == shapes  # same shape: no new rendering


def test_empty_values_are_part_of_the_shape():
    skeletons = _mail()
    _same(skeletons, _ctx("T", "", "low", 0))
    _same(skeletons, _ctx("T", "a note", "low", 0))
    _same(skeletons, _ctx("", "a note", "low", 5))
    assert len(skeletons.skeletons) == 3


def test_filters_and_methods_on_a_leaf_are_traced():
    skeletons = _mail({"m.txt": "{{ title|upper }} {{ note|length }} {{ count + 1 }}\n",
                       "m.html": "<p>{{ title.strip() }}{{ note|truncate(5) }}{{ '%05d'|format(count) }}</p>"})
    for title, note, count in (("abc", "a long note", 4), ("xyz ", "short", 40)):
        _same(skeletons, _ctx(title, note, "low", count))
    assert {("title",), ("note",), ("count",)} <= skeletons.keyed


def test_a_value_in_a_style_block_falls_back_to_the_plain_render():
    skeletons = _mail({"m.txt": "{{ title }}\n",
                       "m.html": "<html><head><style>p { color: {{ prio }}; }</style><script>var t = '{{ title }}';"
                                 "</script></head><body><p>{{ title }}</p></body></html>"})
    _same(skeletons, _ctx("a & b", "", "red", 1))
    _same(skeletons, _ctx("<c>", "", "blue", 1))
    assert any(v is not None and not isinstance(v, tuple) for v in skeletons.skeletons.values())  # _PLAIN


def test_control_characters_render_plainly_and_still_match():
    skeletons = _mail()
    for note in ("line\r\nbreak", "nul\x00here", "bell\x07", "plain"):
        _same(skeletons, _ctx("T", note, "low", 1))


def test_a_template_the_tracing_cannot_see_is_caught_by_the_first_message(caplog):
    # striptags gets str(value): printing and stripping look the same to the tracer.
    skeletons = _mail({"m.txt": "{{ title }}\n", "m.html": "<p>{{ note|striptags }}</p>"})
    with caplog.at_level(logging.WARNING, logger="app.core.skeleton"):
        _same(skeletons, _ctx("T", "<b>bold</b> text", "low", 1))
    assert "differs from the plain render" in caplog.text
    _same(skeletons, _ctx("T", "<i>more</i>", "low", 1))  # that shape now renders plainly
