"""The reminder engine's tunables are sag's declared settings; the old hub-wide names still work, with a warning."""

from __future__ import annotations

import json
import logging

import pytest

from app.modules.sag.reminders import tunables
from app.modules.sag.reminders.engine import Options
from app.modules.sag.reminders.rule_bodies import TRIGGER_TYPES
from tests.modules_fixtures import set_env

NEW, OLD = "MODULES__SAG__REMINDER_MAX_PER_HOUR", "REMINDER_MAX_PER_HOUR"


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.setattr(tunables, "_warned", set())
    names = [f"MODULES__SAG__{k}" for k in tunables.TUNABLES] + list(tunables.TUNABLES)
    old = set_env(**dict.fromkeys(names))
    yield
    set_env(**old)


def test_every_tunable_is_declared_once_in_module_json_with_its_default(clean_env):
    declared = json.loads(tunables.MODULE_JSON.read_text())["settings"]
    assert set(tunables.TUNABLES) <= set(declared)
    opts = Options.from_settings("w1")
    assert (opts.default_max_per_hour, opts.batch_size, opts.lease_s, opts.max_attempts, opts.retry_base_s,
            opts.retry_max_s) == (30, 500, 60.0, 5, 30.0, 3600.0)


def test_the_module_setting_is_read(clean_env):
    set_env(**{NEW: "7", "MODULES__SAG__REMINDER_LEASE_S": "2.5"})
    opts = Options.from_settings("w1")
    assert opts.default_max_per_hour == 7 and opts.lease_s == 2.5


def test_the_old_name_is_read_when_the_new_one_is_unset_with_one_warning(clean_env, caplog):
    set_env(**{OLD: "12"})
    with caplog.at_level(logging.WARNING, logger="app.modules.sag"):
        assert tunables.tunable(OLD) == 12
        assert Options.from_settings("w1").default_max_per_hour == 12
    warnings = [r.getMessage() for r in caplog.records if OLD in r.getMessage()]
    assert warnings == [f"{OLD} is deprecated: set {NEW} instead (read from the old name for now)"]
    set_env(**{NEW: "3"})
    assert tunables.tunable(OLD) == 3


def test_a_bad_value_names_the_variable(clean_env):
    set_env(**{OLD: "lots"})
    with pytest.raises(ValueError, match="REMINDER_MAX_PER_HOUR must be a whole number, got 'lots'"):
        tunables.tunable(OLD)


def test_the_notification_kinds_are_the_rule_trigger_types_then_mentions_and_watched_cases():
    manifest = json.loads(tunables.MODULE_JSON.read_text())
    assert [k["key"] for k in manifest["notification_kinds"]] == [*TRIGGER_TYPES, "mention", "watch"]
