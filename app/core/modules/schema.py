"""The pydantic model of module.json (`ModuleJson`) and the checks behind its messages.

Every check raises `ManifestError` with the text an author reads after `field "<path>": `;
`manifest.load_manifest` adds the file and the field. Values an author writes are accepted as
`Any` and checked by the field's own test, so a wrong type gets the same clear message as a
wrong value (pydantic's generic texts never reach the author).
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Callable
from typing import Annotated, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}_$")
SETTING_KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
SLOT_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
REF_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")
KIND_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
KIND_LABEL_MAX = 80
POINT_PATTERN = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
SETTING_TYPES = ("string", "int", "float", "bool")
# Names that would shadow the hub's own URLs or Python/SQL words; a module may not take them.
RESERVED_NAMES = frozenset({
    "admin", "api", "static", "login", "logout", "me", "health", "docs", "openapi", "redoc",
    "core", "app", "modules", "module", "users", "customers", "notifications", "settings", "public",
    "template", "test", "tests", "select", "table", "user", "null", "true", "false",
})
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def ManifestError(message: str) -> PydanticCustomError:  # noqa: N802 - raised like an exception class
    """A check's message for the author, shown after `field "<path>": `."""
    return PydanticCustomError("manifest", message)


def _got(value: Any) -> str:
    return json.dumps(value)


def _check(test: Callable[[Any], bool], message: str, got: bool = True):
    """A field type that accepts what `test` accepts, with `message` (plus ", got <value>") otherwise."""
    def validate(value: Any) -> Any:
        if not test(value):
            raise ManifestError(f"{message}, got {_got(value)}" if got else message)
        return value
    return BeforeValidator(validate)


def _text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _path(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("/") and not value.startswith("//")


def _ref(value: Any) -> bool:
    return isinstance(value, str) and REF_PATTERN.match(value) is not None


def _boolean(value: Any) -> bool:
    return isinstance(value, bool)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind_of(kind: type, message: str):
    return _check(lambda v: isinstance(v, kind), message, got=False)


Bool = Annotated[Any, _check(_boolean, "must be true or false", got=False)]
Ref = Annotated[Any, _check(_ref, 'must be "package.module:function"')]


class Item(BaseModel):
    # Inside a list or object entry unknown keys are ignored, as before the model existed.
    model_config = ConfigDict(extra="ignore", validate_default=True)


class NavItem(Item):
    label: Annotated[Any, _check(_text, "must be a non-empty string", got=False)] = None
    url: Annotated[Any, _check(_path, "must be a path on the hub starting with /")] = None
    order: Annotated[Any, _check(_whole, "must be a whole number")] = 100
    admin_only: Bool = False


class Job(Item):
    name: Annotated[Any, _check(lambda v: isinstance(v, str) and SLOT_PATTERN.match(v),
                                "must be a lower-case word")] = None
    function: Annotated[Any, _check(_ref, 'must be "package.module:function" (e.g. "backend.worker:run")')] = None


class Setting(Item):
    type: Annotated[Any, _check(lambda v: v in SETTING_TYPES, f"must be one of {', '.join(SETTING_TYPES)}")] = "string"
    default: Any = None
    required: Bool = False
    secret: Bool = False
    description: Annotated[Any, _check(lambda v: isinstance(v, str), "must be a string", got=False)] = ""

    @field_validator("default")
    @classmethod
    def _default_has_the_type(cls, value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("type")
        if value is not None and kind in SETTING_TYPES:
            try:
                coerce(value, kind)
            except ValueError as exc:
                raise ManifestError(str(exc)) from None
        return value


class Kind(Item):
    key: Annotated[Any, _check(lambda v: isinstance(v, str) and KIND_KEY_PATTERN.match(v),
                               'must be a lower-case word like "status_change"')] = None
    label: Annotated[Any, _check(lambda v: _text(v) and len(v) <= KIND_LABEL_MAX,
                                 f"must be a text of 1 to {KIND_LABEL_MAX} characters")] = None
    # Per channel, whether this kind is on for a user who has not chosen (absent: the channel's switch).
    defaults: Annotated[Any, _check(lambda v: isinstance(v, dict) and all(
        isinstance(k, str) and KIND_KEY_PATTERN.match(k) and isinstance(b, bool) for k, b in v.items()),
        'must be an object of channel name -> true/false, like {"email": false}')] = {}


def _entries(model: type, message: str):
    return Annotated[model, _kind_of(dict, message)]


def _key(pattern: re.Pattern, message: str):
    """An object key matching `pattern` (a bad key is reported at `<field>.<key>`)."""
    return Annotated[str, _check(lambda k: pattern.match(k) is not None, message, got=False)]


PointName = _key(POINT_PATTERN, 'extension point names are lower-case words and dots like "sag.channels"')
Refs = Annotated[list[Annotated[Any, _check(_ref, 'must be "package.module:object"')]],
                 _check(lambda v: isinstance(v, list) and v, 'must be a non-empty list of "package.module:object"',
                        got=False)]


class ModuleJson(BaseModel):
    """The fields of module.json (all are documented in docs/modules.md)."""

    model_config = ConfigDict(extra="allow")

    name: Annotated[Any, _check(_text, "must be a non-empty string")]
    version: Annotated[Any, _check(_text, 'must be a version string like "1.0.0"')]
    description: Annotated[Any, _check(_text, "must be a non-empty string")]
    author: Annotated[Any, _check(_text, "must be a non-empty string")]
    enabled: Annotated[Any, _check(_boolean, "must be true or false")]
    table_prefix: Any
    dependencies: Any = []
    navigation: Annotated[list[_entries(NavItem, 'must be an object with "label" and "url"')],
                          _kind_of(list, 'must be a list of {"label", "url", "order", "admin_only"} objects')] = []
    slots: Annotated[dict[_key(SLOT_PATTERN, 'slot names are lower-case words like "dashboard"'), Ref],
                     _kind_of(dict, 'must be an object like {"dashboard": "frontend.slots:dashboard"}')] = {}
    scripts: Annotated[list[Annotated[Any, _check(_path, "must be a path on the hub starting with / (no external "
                                                         "URLs: the hub works offline)")]],
                       _kind_of(list, 'must be a list of URLs like ["/static/modules/webshop/app.js"]')] = []
    jobs: Annotated[list[_entries(Job, 'must be an object with "name" and "function"')],
                    _kind_of(list, 'must be a list of {"name", "function"} objects')] = []
    settings: Annotated[dict[_key(SETTING_KEY_PATTERN, "setting names are letters, digits and _ (like API_KEY)"),
                             _entries(Setting, 'must be an object with "type" and optional default/required/secret')],
                        _kind_of(dict, 'must be an object like {"API_KEY": {"type": "string", "secret": true}}')] = {}
    feed: Annotated[Any, _check(_ref, 'must be "package.module:object" (e.g. "reminders.feed:feed")')] = None
    notification_kinds: Annotated[list[_entries(Kind, 'must be an object with "key" and "label"')],
                                  _kind_of(list, 'must be a list of {"key", "label"} objects')] = []
    extensions: Annotated[dict[PointName, Refs],
                          _kind_of(dict, 'must be an object like {"sag.channels": ["channels.sms:channel"]}')] = {}

    @field_validator("name")
    @classmethod
    def _name_is_the_folder(cls, value: str, info: ValidationInfo) -> str:
        folder = info.context["folder"]
        if value != folder:
            raise ManifestError(f"must match the folder name {folder!r}, got {value!r}")
        if (why := name_problem(value, new=False)) is not None:
            raise ManifestError(why)
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        try:
            Version(value)
        except InvalidVersion:
            raise ManifestError(f"must be a version like 1.0.0, got {value!r}") from None
        return value

    @field_validator("table_prefix")
    @classmethod
    def _prefix(cls, value: Any, info: ValidationInfo) -> str:
        if not isinstance(value, str) or not PREFIX_PATTERN.match(value):
            raise ManifestError("must be lower-case letters, digits and _, ending with _ "
                                f"(e.g. \"{info.context['folder']}_\"), got {_got(value)}")
        return value

    @field_validator("dependencies")
    @classmethod
    def _dependencies(cls, value: Any, info: ValidationInfo) -> Any:
        problems = _dependency_problems(value, info.context["folder"])
        if problems:
            raise ManifestError("; ".join(problems))
        return value


def repeats(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Names that must be unique across entries (checked on the raw lists, so they are reported
    together with any other problem of the entries)."""
    problems = []
    for fld, key, what in (("jobs", "name", "job name {!r} is used twice"),
                           ("notification_kinds", "key", "kind {!r} is listed twice")):
        entries = raw.get(fld)
        seen: set[str] = set()
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            value = entry.get(key) if isinstance(entry, dict) else None
            if isinstance(value, str) and value in seen:
                problems.append((f"{fld}[{i}].{key}", what.format(value)))
            seen.add(value)
    return problems


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


def _dependency_problems(value: Any, own: str) -> list[str]:
    if isinstance(value, dict):
        items = [{"name": k, "version": v} for k, v in value.items()]
    elif isinstance(value, list):
        items = value
    else:
        return [f"must be a list of module names like [\"sag\", \"crm>=1.2,<2\"], got {_got(value)}"]
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
                raise InvalidRequirement(f"got {_got(item)}")
        except (InvalidRequirement, ValueError) as exc:
            problems.append(f"entry {i + 1} is not a module name with an optional version range "
                            f"like \"sag>=1.0,<2\": {exc}")
            continue
        if not NAME_PATTERN.match(name):
            problems.append(f"entry {i + 1}: {name!r} is not a module name")
        elif name == own:
            problems.append(f"entry {i + 1}: a module cannot depend on itself")
    return problems


def coerce(value: Any, kind: str) -> Any:
    """`value` (from the environment: a string; from module.json: JSON) as `kind`."""
    if kind == "string":
        if isinstance(value, (dict, list)):
            raise ValueError(f"must be a string, got {_got(value)}")
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
