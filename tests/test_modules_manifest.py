"""module.json validation: one clear message per bad field, naming the file and the field."""

from __future__ import annotations

import json

import pytest

from app.core.modules.manifest import Dependency, coerce, load_manifest, parse_dependencies

GOOD = {"name": "shop", "version": "1.2.0", "description": "A shop", "author": "Me", "enabled": True,
        "table_prefix": "shop_", "dependencies": []}


def manifest_of(tmp_path, data=None, raw=None, folder="shop"):
    path = tmp_path / folder
    path.mkdir(exist_ok=True)
    (path / "module.json").write_text(raw if raw is not None else json.dumps(data))
    return load_manifest(path)


def errors_of(tmp_path, **changes):
    data = {**GOOD, **changes}
    return manifest_of(tmp_path, {k: v for k, v in data.items() if v is not None}).errors


def test_a_complete_manifest_is_valid(tmp_path):
    nav = [{"label": "Shop", "url": "/shop", "order": 5, "admin_only": False}]
    m = manifest_of(tmp_path, {**GOOD, "navigation": nav,
                               "slots": {"dashboard": "frontend.slots:dashboard"},
                               "scripts": ["/static/modules/shop/app.js"],
                               "jobs": [{"name": "sync", "function": "backend.worker:run"}],
                               "settings": {"API_KEY": {"type": "string", "secret": True, "required": False}}})
    assert m.errors == [] and m.warnings == []


@pytest.mark.parametrize("field,value,message", [
    ("name", None, 'field "name": is required'),
    ("name", "other", "must match the folder name 'shop'"),
    ("version", "one", "must be a version like 1.0.0, got 'one'"),
    ("version", 1, 'must be a version string like "1.0.0", got 1'),
    ("description", "", "must be a non-empty string"),
    ("author", None, 'field "author": is required'),
    ("enabled", "true", "must be true or false"),
    ("table_prefix", "shop", 'must be lower-case letters, digits and _, ending with _ (e.g. "shop_")'),
    ("table_prefix", "Shop_", "ending with _"),
    ("dependencies", "sag", "must be a list of module names"),
    ("dependencies", ["sag>>1"], "entry 1 is not a module name with an optional version range"),
    ("dependencies", ["shop"], "a module cannot depend on itself"),
    ("navigation", [{"label": "X", "url": "http://evil"}], 'field "navigation[0].url": must be a path'),
    ("navigation", [{"url": "/x"}], 'field "navigation[0].label": must be a non-empty string'),
    ("navigation", [{"label": "X", "url": "/x", "order": "1"}], 'field "navigation[0].order": must be a whole number'),
    ("slots", {"dashboard": "not a ref"}, 'field "slots.dashboard": must be "package.module:function"'),
    ("scripts", ["https://cdn.example/x.js"], "no external URLs"),
    ("jobs", [{"name": "sync"}], 'field "jobs[0].function": must be "package.module:function"'),
    ("jobs", [{"name": "a", "function": "b.c:d"}, {"name": "a", "function": "b.c:d"}], "is used twice"),
    ("settings", {"KEY": {"type": "date"}}, 'field "settings.KEY.type": must be one of string, int, float, bool'),
    ("settings", {"KEY": {"type": "int", "default": "ten"}}, 'field "settings.KEY.default": must be a whole number'),
    ("settings", {"KEY": {"required": "yes"}}, 'field "settings.KEY.required": must be true or false'),
])
def test_each_bad_field_has_a_message_naming_file_and_field(tmp_path, field, value, message):
    errors = errors_of(tmp_path, **{field: value}) if value is not None else \
        manifest_of(tmp_path, {k: v for k, v in GOOD.items() if k != field}).errors
    assert len(errors) == 1, errors
    assert errors[0].startswith("shop/module.json: ") or "/shop/module.json: " in errors[0]
    assert message in errors[0]


def test_several_bad_fields_give_several_messages(tmp_path):
    errors = errors_of(tmp_path, version="x", enabled="no", table_prefix="bad")
    assert len(errors) == 3


def test_invalid_json_names_line_and_column(tmp_path):
    errors = manifest_of(tmp_path, raw='{\n  "name": "shop",\n  "version" "1.0"\n}').errors
    assert len(errors) == 1
    assert "module.json: invalid JSON at line 3 column 13" in errors[0]


def test_not_an_object(tmp_path):
    assert "must be a JSON object" in manifest_of(tmp_path, raw="[1, 2]").errors[0]


def test_unknown_fields_are_warned_about_not_fatal(tmp_path):
    m = manifest_of(tmp_path, {**GOOD, "dependecies": []})
    assert m.errors == []
    assert 'unknown field "dependecies" is ignored' in m.warnings[0]


def test_python_keywords_cannot_be_module_names(tmp_path):
    m = manifest_of(tmp_path, {**GOOD, "name": "class", "table_prefix": "class_"}, folder="class")
    assert any("reserved word" in e for e in m.errors)


@pytest.mark.parametrize("value,expected", [
    (["sag"], [Dependency("sag", "")]),
    (["sag>=1.0,<2"], [Dependency("sag", "<2,>=1.0")]),
    ({"sag": ">=1.2"}, [Dependency("sag", ">=1.2")]),
    ([{"name": "sag", "version": "~=1.4"}], [Dependency("sag", "~=1.4")]),
])
def test_dependency_forms(value, expected):
    assert parse_dependencies(value) == expected


def test_version_ranges():
    dep = parse_dependencies(["sag>=1.0,<2"])[0]
    assert dep.allows("1.0.0") and dep.allows("1.9.3") and not dep.allows("2.0.0") and not dep.allows("0.9")
    assert parse_dependencies(["sag"])[0].allows("0.0.1")


@pytest.mark.parametrize("value,kind,expected", [
    ("true", "bool", True), ("0", "bool", False), ("Yes", "bool", True), ("12", "int", 12),
    (" 2.5 ", "float", 2.5), (5, "string", "5"),
])
def test_setting_values_are_coerced(value, kind, expected):
    assert coerce(value, kind) == expected


@pytest.mark.parametrize("value,kind", [("maybe", "bool"), ("1.5", "int"), ("x", "float"), (True, "int")])
def test_bad_setting_values_are_refused(value, kind):
    with pytest.raises(ValueError):
        coerce(value, kind)
