"""The reminder engine's tunables: sag's declared settings (module.json "settings").

Each is read from `MODULES__SAG__<KEY>` (e.g. `MODULES__SAG__REMINDER_MAX_PER_HOUR`), its
type and default come from module.json. Before the engine became part of the module these
were hub settings named without the prefix (`REMINDER_MAX_PER_HOUR`, ...): such a name is
still read when the new one is unset, and a deprecation warning is logged once per process.
"""

from __future__ import annotations

import json
import logging
import os
from functools import cache
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from app.core.config import get_module_config

MODULE = "sag"
MODULE_JSON = Path(__file__).resolve().parents[1] / "module.json"
TUNABLES = ("REMINDER_MAX_PER_HOUR", "REMINDER_BATCH_SIZE", "REMINDER_LEASE_S", "REMINDER_MAX_ATTEMPTS",
            "REMINDER_RETRY_BASE_S", "REMINDER_RETRY_MAX_S")
# The settings file the hub reads besides the environment (see app.core.config).
ENV_FILE = ".env"

log = logging.getLogger("app.modules.sag")
_warned: set[str] = set()


@cache
def _declared() -> dict[str, dict[str, Any]]:
    return json.loads(MODULE_JSON.read_text(encoding="utf-8"))["settings"]


def _old_value(key: str) -> str | None:
    """The pre-module name's value, from the environment or .env (like the hub's settings)."""
    for name, value in os.environ.items():
        if name.upper() == key:
            return value
    if Path(ENV_FILE).is_file():
        for name, value in dotenv_values(ENV_FILE).items():
            if name.upper() == key and value is not None:
                return value
    return None


def _coerce(value: Any, kind: str, source: str) -> int | float:
    try:
        return int(str(value).strip()) if kind == "int" else float(str(value).strip())
    except ValueError:
        raise ValueError(f"{source} must be a {'whole ' if kind == 'int' else ''}number, got {value!r}") from None


def tunable(key: str) -> int | float:
    """The value of one tunable (new name, else the deprecated one, else module.json's default)."""
    spec = _declared()[key]
    new_name = f"MODULES__{MODULE.upper()}__{key}"
    value = get_module_config(MODULE, key)
    if value is not None:
        return _coerce(value, spec["type"], new_name)
    value = _old_value(key)
    if value is not None:
        if key not in _warned:
            _warned.add(key)
            log.warning("%s is deprecated: set %s instead (read from the old name for now)", key, new_name)
        return _coerce(value, spec["type"], key)
    return _coerce(spec["default"], spec["type"], f"module.json settings.{key}.default")


def tunables() -> dict[str, int | float]:
    """Every tunable by its lower-case key (`reminder_max_per_hour`: 30, ...)."""
    return {key.lower(): tunable(key) for key in TUNABLES}
