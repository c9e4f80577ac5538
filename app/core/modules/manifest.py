"""module.json: reading and validating a module's manifest.

Every problem is reported as one message naming the file and the field, e.g.
`webshop/module.json: field "version": must be a version like 1.0.0, got "abc"`,
and all problems of a file are reported together so an author fixes them in one go.
"""

from __future__ import annotations

import json
import keyword
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

log = logging.getLogger("app.core.modules")

DEFAULT_MODULES_DIR = Path(__file__).resolve().parents[2] / "modules"

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}_$")
SETTING_KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
SLOT_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
REF_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")
SETTING_TYPES = ("string", "int", "float", "bool")
# Names that would shadow the hub's own URLs or Python/SQL words; a module may not take them.
RESERVED_NAMES = frozenset({
    "admin", "api", "static", "login", "logout", "me", "health", "docs", "openapi", "redoc",
    "core", "app", "modules", "module", "users", "customers", "notifications", "settings", "public",
    "template", "test", "tests", "select", "table", "user", "null", "true", "false",
})
REQUIRED_FIELDS = ("name", "version", "description", "author", "enabled", "table_prefix")
KNOWN_FIELDS = frozenset(REQUIRED_FIELDS + (
    "dependencies", "navigation", "slots", "scripts", "jobs", "settings", "extensions",
))
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


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
        return parse_dependencies(self.raw.get("dependencies", [])) if self.valid else []

    @property
    def settings(self) -> list[SettingSpec]:
        out = []
        for key, spec in (self.raw.get("settings") or {}).items():
            out.append(SettingSpec(key=key, type=spec.get("type", "string"), default=spec.get("default"),
                                   required=bool(spec.get("required", False)),
                                   secret=bool(spec.get("secret", False)),
                                   description=str(spec.get("description", ""))))
        return out


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
    manifest.errors.extend(f"{where}: field \"{f}\": {msg}" for f, msg in validate(raw, folder.name))
    manifest.warnings.extend(
        f"{where}: unknown field \"{k}\" is ignored (known: {', '.join(sorted(KNOWN_FIELDS))})"
        for k in raw if k not in KNOWN_FIELDS)
    return manifest


def name_problem(name: str, new: bool = True) -> str | None:
    """Why `name` cannot be a module name, or None when it can.

    A new module (the scaffold) may not take a reserved name either; for an existing folder
    the loader's route-clash check is what keeps it from shadowing the hub's own URLs.
    """
    if not NAME_PATTERN.match(name or ""):
        return (f"{name!r} is not a valid module name: use lower-case letters, digits and _ "
                "(a Python identifier starting with a letter, at most 40 characters)")
    if keyword.iskeyword(name) or (new and name in RESERVED_NAMES):
        return f"{name!r} is a reserved word and cannot be a module name"
    return None


def _is_str(value: Any, allow_empty: bool = False) -> bool:
    return isinstance(value, str) and (allow_empty or value.strip() != "")


def validate(raw: dict[str, Any], folder_name: str) -> list[tuple[str, str]]:
    """(field, message) for every problem of a manifest."""
    problems: list[tuple[str, str]] = []
    for f in REQUIRED_FIELDS:
        if f not in raw:
            problems.append((f, "is required"))
    name = raw.get("name")
    if "name" in raw:
        if not _is_str(name):
            problems.append(("name", f"must be a non-empty string, got {json.dumps(name)}"))
        elif name != folder_name:
            problems.append(("name", f"must match the folder name {folder_name!r}, got {name!r}"))
        elif (why := name_problem(name, new=False)) is not None:
            problems.append(("name", why))
    if "version" in raw:
        problems.extend(("version", m) for m in _version_problems(raw["version"]))
    for f in ("description", "author"):
        if f in raw and not _is_str(raw[f]):
            problems.append((f, f"must be a non-empty string, got {json.dumps(raw[f])}"))
    if "enabled" in raw and not isinstance(raw["enabled"], bool):
        problems.append(("enabled", f"must be true or false, got {json.dumps(raw['enabled'])}"))
    if "table_prefix" in raw:
        prefix = raw["table_prefix"]
        if not isinstance(prefix, str) or not PREFIX_PATTERN.match(prefix):
            problems.append(("table_prefix", "must be lower-case letters, digits and _, ending with _ "
                             f"(e.g. \"{folder_name}_\"), got {json.dumps(prefix)}"))
    if "dependencies" in raw:
        problems.extend(("dependencies", m) for m in _dependency_problems(raw["dependencies"], folder_name))
    problems.extend(_navigation_problems(raw.get("navigation", [])))
    problems.extend(_slot_problems(raw.get("slots", {})))
    problems.extend(_script_problems(raw.get("scripts", [])))
    problems.extend(_job_problems(raw.get("jobs", [])))
    problems.extend(_setting_problems(raw.get("settings", {})))
    return problems


def _version_problems(value: Any) -> list[str]:
    if not _is_str(value):
        return [f"must be a version string like \"1.0.0\", got {json.dumps(value)}"]
    try:
        Version(value)
    except InvalidVersion:
        return [f"must be a version like 1.0.0, got {value!r}"]
    return []


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


def _dependency_problems(value: Any, own: str) -> list[str]:
    if isinstance(value, dict):
        items = [{"name": k, "version": v} for k, v in value.items()]
    elif isinstance(value, list):
        items = value
    else:
        return [f"must be a list of module names like [\"sag\", \"crm>=1.2,<2\"], got {json.dumps(value)}"]
    problems = []
    for i, item in enumerate(items):
        try:
            if isinstance(item, dict):
                name, spec = item.get("name"), item.get("version") or ""
                if not isinstance(name, str) or not isinstance(spec, str):
                    raise InvalidRequirement("needs a string name and an optional string version")
                SpecifierSet(spec)
            elif isinstance(item, str):
                name = Requirement(item).name
            else:
                raise InvalidRequirement(f"got {json.dumps(item)}")
        except (InvalidRequirement, ValueError) as exc:
            problems.append(f"entry {i + 1} is not a module name with an optional version range "
                            f"like \"sag>=1.0,<2\": {exc}")
            continue
        if not NAME_PATTERN.match(name):
            problems.append(f"entry {i + 1}: {name!r} is not a module name")
        elif name == own:
            problems.append(f"entry {i + 1}: a module cannot depend on itself")
    return problems


def _navigation_problems(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        return [("navigation", "must be a list of {\"label\", \"url\", \"order\", \"admin_only\"} objects")]
    problems = []
    for i, item in enumerate(value):
        where = f"navigation[{i}]"
        if not isinstance(item, dict):
            problems.append((where, "must be an object with \"label\" and \"url\""))
            continue
        if not _is_str(item.get("label")):
            problems.append((f"{where}.label", "must be a non-empty string"))
        url = item.get("url")
        if not _is_str(url) or not url.startswith("/") or url.startswith("//"):
            problems.append((f"{where}.url", f"must be a path on the hub starting with /, got {json.dumps(url)}"))
        if "order" in item and (not isinstance(item["order"], int) or isinstance(item["order"], bool)):
            problems.append((f"{where}.order", f"must be a whole number, got {json.dumps(item['order'])}"))
        if "admin_only" in item and not isinstance(item["admin_only"], bool):
            problems.append((f"{where}.admin_only", "must be true or false"))
    return problems


def _slot_problems(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return [("slots", "must be an object like {\"dashboard\": \"frontend.slots:dashboard\"}")]
    problems = []
    for slot, ref in value.items():
        if not SLOT_PATTERN.match(str(slot)):
            problems.append((f"slots.{slot}", "slot names are lower-case words like \"dashboard\""))
        if not isinstance(ref, str) or not REF_PATTERN.match(ref):
            problems.append((f"slots.{slot}", f"must be \"package.module:function\", got {json.dumps(ref)}"))
    return problems


def _script_problems(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        return [("scripts", "must be a list of URLs like [\"/static/modules/webshop/app.js\"]")]
    problems = []
    for i, url in enumerate(value):
        if not isinstance(url, str) or not url.startswith("/") or url.startswith("//"):
            problems.append((f"scripts[{i}]", "must be a path on the hub starting with / (no external URLs: "
                             f"the hub works offline), got {json.dumps(url)}"))
    return problems


def _job_problems(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        return [("jobs", "must be a list of {\"name\", \"function\"} objects")]
    problems, seen = [], set()
    for i, job in enumerate(value):
        where = f"jobs[{i}]"
        if not isinstance(job, dict):
            problems.append((where, "must be an object with \"name\" and \"function\""))
            continue
        name = job.get("name")
        if not isinstance(name, str) or not SLOT_PATTERN.match(name):
            problems.append((f"{where}.name", f"must be a lower-case word, got {json.dumps(name)}"))
        elif name in seen:
            problems.append((f"{where}.name", f"job name {name!r} is used twice"))
        seen.add(name)
        ref = job.get("function")
        if not isinstance(ref, str) or not REF_PATTERN.match(ref):
            problems.append((f"{where}.function", f"must be \"package.module:function\" "
                             f"(e.g. \"backend.worker:run\"), got {json.dumps(ref)}"))
    return problems


def _setting_problems(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return [("settings", "must be an object like {\"API_KEY\": {\"type\": \"string\", \"secret\": true}}")]
    problems = []
    for key, spec in value.items():
        where = f"settings.{key}"
        if not SETTING_KEY_PATTERN.match(str(key)):
            problems.append((where, "setting names are letters, digits and _ (like API_KEY)"))
        if not isinstance(spec, dict):
            problems.append((where, "must be an object with \"type\" and optional default/required/secret"))
            continue
        kind = spec.get("type", "string")
        if kind not in SETTING_TYPES:
            problems.append((f"{where}.type", f"must be one of {', '.join(SETTING_TYPES)}, got {json.dumps(kind)}"))
            continue
        for flag in ("required", "secret"):
            if flag in spec and not isinstance(spec[flag], bool):
                problems.append((f"{where}.{flag}", "must be true or false"))
        if spec.get("default") is not None:
            try:
                coerce(spec["default"], kind)
            except ValueError as exc:
                problems.append((f"{where}.default", str(exc)))
        if "description" in spec and not isinstance(spec["description"], str):
            problems.append((f"{where}.description", "must be a string"))
    return problems


def coerce(value: Any, kind: str) -> Any:
    """`value` (from the environment: a string; from module.json: JSON) as `kind`."""
    if kind == "string":
        if isinstance(value, (dict, list)):
            raise ValueError(f"must be a string, got {json.dumps(value)}")
        return str(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise ValueError(f"must be true or false, got {value!r}")
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError(f"must be a whole number, got {value!r}")
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValueError(f"must be a whole number, got {value!r}") from None
    if kind == "float":
        try:
            return float(str(value).strip())
        except ValueError:
            raise ValueError(f"must be a number, got {value!r}") from None
    raise ValueError(f"unknown type {kind!r}")


def modules_dir() -> Path:
    """MODULES_DIR, or `app/modules`."""
    from app.core.config import get_settings

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
