"""module.json: reading and validating a module's manifest (the pydantic model `ModuleJson`).

Every problem is reported as one message naming the file and the field, e.g.
`webshop/module.json: field "version": must be a version like 1.0.0, got "abc"`,
and all problems of a file are reported together so an author fixes them in one go.
The model (`schema.py`) raises the author-facing text; `load_manifest` turns pydantic's error
locations into field paths (`navigation[0].url`, `settings.KEY.type`).
Unknown top-level keys are a warning, not an error (a newer module on an older hub loads).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from pydantic import ValidationError

from app.core.config import get_settings
from app.core.modules.schema import ModuleJson, coerce, name_problem, repeats

# Re-exported: the settings and the scaffold use them with the manifest.
__all__ = ["Dependency", "Manifest", "ModuleJson", "SettingSpec", "coerce", "discover", "display_path",
           "load_manifest", "modules_dir", "name_problem", "parse_dependencies"]

DEFAULT_MODULES_DIR = Path(__file__).resolve().parents[2] / "modules"

@dataclass(frozen=True)
class Dependency:
    name: str
    spec: str = ""  # a version range like ">=1.0,<2" ("" = any version)

    def allows(self, version: str) -> bool:
        return not self.spec or SpecifierSet(self.spec).contains(Version(version), prereleases=True)

    def __str__(self) -> str:
        return f"{self.name}{self.spec}"


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: str = "string"
    default: Any = None
    required: bool = False
    secret: bool = False
    description: str = ""


@dataclass
class Manifest:
    name: str
    folder: Path
    raw: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    model: ModuleJson | None = None  # set when valid

    @property
    def valid(self) -> bool:
        return not self.errors

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    @property
    def version(self) -> str:
        return str(self.raw.get("version", ""))

    @property
    def enabled_default(self) -> bool:
        return self.raw.get("enabled") is True

    @property
    def table_prefix(self) -> str:
        return str(self.raw.get("table_prefix", ""))

    @property
    def dependencies(self) -> list[Dependency]:
        return parse_dependencies(self.model.dependencies) if self.model is not None else []

    @property
    def settings(self) -> list[SettingSpec]:
        if self.model is None:
            return []
        return [SettingSpec(key=key, type=s.type, default=s.default, required=s.required, secret=s.secret,
                            description=s.description) for key, s in self.model.settings.items()]


def display_path(path: Path) -> str:
    """The path as an author knows it: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_manifest(folder: Path) -> Manifest:
    path = folder / "module.json"
    where = display_path(path)
    manifest = Manifest(name=folder.name, folder=folder)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        manifest.errors.append(f"{where}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
        return manifest
    except (OSError, UnicodeDecodeError) as exc:
        manifest.errors.append(f"{where}: cannot be read: {exc}")
        return manifest
    if not isinstance(raw, dict):
        manifest.errors.append(f"{where}: must be a JSON object {{...}}, got {type(raw).__name__}")
        return manifest
    manifest.raw = raw
    try:
        manifest.model = ModuleJson.model_validate(raw, context={"folder": folder.name})
    except ValidationError as exc:
        manifest.errors.extend(f"{where}: field \"{_field(e)}\": {_message(e)}" for e in exc.errors())
    manifest.errors.extend(f"{where}: field \"{f}\": {message}" for f, message in repeats(raw))
    if manifest.errors:
        manifest.model = None
    known = ModuleJson.model_fields
    manifest.warnings.extend(
        f"{where}: unknown field \"{k}\" is ignored (known: {', '.join(sorted(known))})"
        for k in raw if k not in known)
    return manifest


def _field(error: dict) -> str:
    """The error's location as an author writes it: `navigation[0].url`, `settings.KEY.type`."""
    # pydantic marks a bad object key with a trailing "[key]"; the key itself names the place.
    loc = [p for p in error["loc"] if p != "[key]"]
    return str(loc[0]) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])


def _message(error: dict) -> str:
    return "is required" if error["type"] == "missing" else error["msg"]


def parse_dependencies(value: Any) -> list[Dependency]:
    """`["sag", "crm>=1.2,<2"]` or `{"sag": ">=1.0"}` or `[{"name": "sag", "version": ">=1"}]`."""
    deps: list[Dependency] = []
    if isinstance(value, dict):
        for name, spec in value.items():
            deps.append(Dependency(name, str(SpecifierSet(spec or ""))))
        return deps
    for item in value:
        if isinstance(item, dict):
            deps.append(Dependency(item["name"], str(SpecifierSet(item.get("version") or ""))))
        else:
            req = Requirement(item)
            deps.append(Dependency(req.name, str(req.specifier)))
    return deps


def modules_dir() -> Path:
    """MODULES_DIR, or `app/modules`."""
    configured = get_settings().modules_dir
    return Path(configured).resolve() if configured else DEFAULT_MODULES_DIR


def discover(directory: Path | None = None) -> dict[str, Manifest]:
    """Every folder with a module.json (not `_template`, `_*` or `.*`), by name, sorted."""
    directory = directory or modules_dir()
    found: dict[str, Manifest] = {}
    if not directory.is_dir():
        return found
    for folder in sorted(directory.iterdir()):
        if folder.name.startswith(("_", ".")) or not (folder / "module.json").is_file():
            continue
        found[folder.name] = load_manifest(folder)
    return found
