"""Generic extension points in module.json: `notification_kinds` and `extensions`.

The host resolves each reference when the module loads and hands the objects out for the
enabled modules only, in load order (dependencies first); disabling a module drops them.
"""

from __future__ import annotations

import importlib

from tests.modules_fixtures import set_env, write_module

CHANNELS = '''
class Sms:
    name = "sms"


sms = Sms()


def collect(conn):
    return ["metric of %(name)s"]
'''


def _app(root):
    from app.main import create_app

    old = set_env(MODULES_DIR=str(root))
    try:
        return create_app()
    finally:
        set_env(**old)


def test_extensions_and_kinds_of_enabled_modules_in_load_order(tmp_path):
    from app.core.modules import service

    base = write_module(tmp_path, "zbase", files={"ext.py": CHANNELS}, manifest={
        "extensions": {"sag.channels": ["ext:sms"], "metrics": ["ext:collect"]},
        "notification_kinds": [{"key": "status_change", "label": "Status changes"},
                               {"key": "deadline", "label": "Deadlines"}]})
    # "adds" sorts before "zbase" but depends on it, so it comes second.
    addon = write_module(tmp_path, "adds", files={"ext.py": CHANNELS}, manifest={
        "dependencies": [base], "extensions": {"metrics": ["ext:collect"]},
        "notification_kinds": [{"key": "watch", "label": "Watched cases", "defaults": {"email": False}}]})
    host = _app(tmp_path).state.modules
    base_ext = importlib.import_module(f"app.modules.{base}.ext")
    addon_ext = importlib.import_module(f"app.modules.{addon}.ext")

    assert host.extensions("sag.channels") == [(base, base_ext.sms)]
    assert host.extensions("metrics") == [(base, base_ext.collect), (addon, addon_ext.collect)]
    assert host.extensions("nobody.uses.this") == []
    assert host.notification_kinds() == [
        {"module": base, "key": "status_change", "label": "Status changes", "defaults": {}},
        {"module": base, "key": "deadline", "label": "Deadlines", "defaults": {}},
        {"module": addon, "key": "watch", "label": "Watched cases", "defaults": {"email": False}}]

    service.disable(host, addon, None)
    assert host.extensions("metrics") == [(base, base_ext.collect)]
    assert [k["key"] for k in host.notification_kinds()] == ["status_change", "deadline"]
    service.enable(host, addon, None)
    assert host.extensions("metrics") == [(base, base_ext.collect), (addon, addon_ext.collect)]
    assert [k["module"] for k in host.notification_kinds()] == [base, base, addon]


def test_a_disabled_module_contributes_nothing(tmp_path):
    name = write_module(tmp_path, "quiet", files={"ext.py": CHANNELS}, manifest={
        "enabled": False, "extensions": {"metrics": ["ext:collect"]},
        "notification_kinds": [{"key": "quiet", "label": "Quiet"}]})
    host = _app(tmp_path).state.modules
    assert host.records[name].state == "disabled"
    assert host.extensions("metrics") == [] and host.notification_kinds() == []


def test_a_reference_to_a_missing_object_fails_only_that_module(tmp_path):
    good = write_module(tmp_path, "good", files={"ext.py": CHANNELS},
                        manifest={"extensions": {"metrics": ["ext:collect"]}})
    bad = write_module(tmp_path, "bad", files={"ext.py": CHANNELS},
                       manifest={"extensions": {"metrics": ["ext:nothing"]}})
    host = _app(tmp_path).state.modules
    assert host.records[bad].state == "failed"
    assert host.records[bad].error == "ext.py has no 'nothing' (module.json: 'ext:nothing')"
    assert [m for m, _obj in host.extensions("metrics")] == [good]


def test_bad_kinds_and_extensions_are_named_with_file_and_field(tmp_path):
    from app.core.modules.manifest import load_manifest

    write_module(tmp_path, "shop", name="shop", manifest={
        "feed": "no colon",
        "notification_kinds": [{"key": "Bad Key", "label": "x"}, {"key": "ok", "label": ""},
                               {"key": "ok", "label": "again"}, "text"],
        "extensions": {"Bad Point": ["ext:x"], "metrics": [], "sag.channels": ["nope"]}})
    errors = load_manifest(tmp_path / "shop").errors
    where = str(tmp_path / "shop" / "module.json")
    assert f'{where}: field "feed": must be "package.module:object" (e.g. "reminders.feed:feed"), got "no colon"' \
        in errors
    expected = [
        'field "notification_kinds[0].key": must be a lower-case word like "status_change", got "Bad Key"',
        'field "notification_kinds[1].label": must be a text of 1 to 80 characters, got ""',
        'field "notification_kinds[2].key": kind \'ok\' is listed twice',
        'field "notification_kinds[3]": must be an object with "key" and "label"',
        'field "extensions.Bad Point": extension point names are lower-case words and dots like "sag.channels"',
        'field "extensions.metrics": must be a non-empty list of "package.module:object"',
        'field "extensions.sag.channels[0]": must be "package.module:object", got "nope"',
    ]
    for message in expected:
        assert f"{where}: {message}" in errors, (message, errors)
