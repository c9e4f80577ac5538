"""Every user-visible text is marked for translation, and the Danish catalogs are complete.

A failure names the file and line (or the catalog entry) and what to do: mark the text
(`{% trans %}`, `_()`, `hub.t()`), run `make i18n`, translate the new entries.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core import i18n_catalogs
from app.core.i18n_check import python_problems, template_problems
from app.core.templating import env

APP = Path(i18n_catalogs.APP_DIR)
TEMPLATES = sorted(p for p in APP.rglob("templates/**/*") if p.suffix in (".html", ".txt"))
PYTHON = sorted(p for p in APP.rglob("*.py") if "tests" not in p.parts)


def _name(path: Path) -> str:
    return str(path.relative_to(APP))


@pytest.mark.parametrize("path", TEMPLATES, ids=_name)
def test_template_text_is_marked_for_translation(path):
    assert template_problems(path, env) == []


@pytest.mark.parametrize("path", PYTHON, ids=_name)
def test_python_messages_can_be_translated(path):
    assert python_problems(path) == []


@pytest.mark.parametrize("package", i18n_catalogs.packages(), ids=lambda p: p.name)
def test_danish_catalog_is_complete_and_compiled(package):
    assert i18n_catalogs.problems(package) == []


def test_checker_finds_unmarked_text_attributes_and_printed_constants(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '{% extends "base.html" %}{% block content %}\n'
        '<h1>{{ _("Cases") }}</h1>\n'
        '<p>Nothing here</p>\n'
        '<input placeholder="Search cases">\n'
        '<span>{{ when or "never" }}</span>\n'
        '<p>{% trans %}Marked text{% endtrans %}</p>\n'
        '<script>const label = "not text for readers";</script>\n'
        '<code>{{ key }}</code> <span>BMC Hub</span> <b>42</b>\n'
        '{% endblock %}\n', encoding="utf-8")
    found = template_problems(page, env)
    assert [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in found] == ["3", "4", "5"]
    assert "'Nothing here'" in found[0] and "'Search cases'" in found[1] and "'never'" in found[2]


def test_checker_refuses_error_messages_that_cannot_be_translated(tmp_path):
    source = tmp_path / "code.py"
    source.write_text(
        "from app.core.errors import NotFound\n"
        "from app.core.i18n import gettext as _\n"
        "def a(case_id):\n"
        "    raise NotFound(f'Case {case_id} not found')\n"
        "def b(case_id):\n"
        "    raise NotFound('Case %(id)s not found', id=case_id)\n"
        "def c(text):\n"
        "    return _(text)\n", encoding="utf-8")
    found = python_problems(source)
    assert len(found) == 2
    assert ":4: NotFound() with an f-string" in found[0]
    assert ":8: _() needs a string literal" in found[1]
