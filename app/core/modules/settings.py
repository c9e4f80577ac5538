"""Module settings: declared in module.json, read from `MODULES__<NAME>__<KEY>`.

    "settings": {
        "API_KEY":   {"type": "string", "required": true, "secret": true},
        "READ_ONLY": {"type": "bool", "default": false}
    }

Values are checked when the module loads: a missing required value or one of the wrong
type keeps only that module out, with a message naming the environment variable.
`READ_ONLY` and `DRY_RUN` are the safety switches every module has (declared or not):
while the module's code runs, its transactions are READ ONLY (PostgreSQL refuses every
write) or rolled back at the end (DRY_RUN); see `app.core.database.acting_module`.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from typing import Any

from app.core import database
from app.core.config import get_module_config
from app.core.modules.manifest import Manifest, SettingSpec, coerce

log = logging.getLogger("app.core.modules")

SECRET_MASK = "********"
SAFETY_SWITCHES = ("READ_ONLY", "DRY_RUN")


env_name = database.env_name


def _specs(manifest: Manifest) -> list[SettingSpec]:
    specs = list(manifest.settings)
    declared = {s.key.upper() for s in specs}
    for key in SAFETY_SWITCHES:
        if key not in declared:
            specs.append(SettingSpec(key=key, type="bool", default=False,
                                     description="safety switch every module has"))
    return specs


def resolve(manifest: Manifest) -> tuple[list[dict[str, Any]], list[str]]:
    """(effective settings, problems): one row per setting with its value and where it came from."""
    rows, problems = [], []
    for spec in _specs(manifest):
        env = env_name(manifest.name, spec.key)
        raw = get_module_config(manifest.name, spec.key)
        source = "environment" if raw is not None else ("default" if spec.default is not None else "unset")
        value: Any = spec.default if raw is None else raw
        if value is not None:
            try:
                value = coerce(value, spec.type)
            except ValueError as exc:
                problems.append(f"{env} {exc}")
                value = None
        elif spec.required:
            problems.append(f"{env} is required (module.json settings.{spec.key}); set it in the "
                            "environment or .env")
        rows.append({"key": spec.key, "env": env, "type": spec.type, "required": spec.required,
                     "secret": spec.secret, "description": spec.description, "source": source,
                     "value": value})
    return rows, problems


def public_view(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The settings as the API shows them: secrets hidden (only whether they are set)."""
    out = []
    for row in rows:
        row = dict(row)
        if row["secret"]:
            row["value"] = SECRET_MASK if row["value"] not in (None, "") else None
        out.append(row)
    return out


def switch(module: str, key: str, manifest: Manifest | None) -> bool:
    """The effective value of a boolean safety switch (environment first, then module.json)."""
    raw = get_module_config(module, key)
    if raw is None and manifest is not None:
        spec = next((s for s in manifest.settings if s.key.upper() == key), None)
        raw = spec.default if spec else None
    try:
        return bool(coerce(raw, "bool")) if raw is not None else False
    except ValueError:
        return False


def acting(module: str, manifest: Manifest | None) -> AbstractContextManager[None]:
    """`database.acting_module` for `module` with its switches (environment, then module.json)."""
    return database.acting_module(module, read_only=switch(module, "READ_ONLY", manifest),
                                  dry_run=switch(module, "DRY_RUN", manifest))
