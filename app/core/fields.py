"""Field types for request models whose JSON schema says exactly what they accept.

`/openapi.json` is the API's contract (docs/api.md): a value the schema allows must not be
refused for a reason the schema could have stated. These are the types several models share.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, ValidationError, WrapValidator

# The zones a user can pick: the region/city names (and UTC), as the preferences page lists them.
TIME_ZONES = tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))

ZoneName = StrEnum("TimeZone", {z: z for z in TIME_ZONES})  # type: ignore[misc]


def N_(message: str) -> str:
    """Marks a validator's message for the catalogs (`make i18n` extracts it) and returns it as
    is: the API answers the English text, a page's form shows it translated (`app.core.forms`)."""
    return message


def _zone(value: Any, handler) -> str:
    # The enum's own message would list every zone; one line naming the bad value is enough.
    try:
        return handler(value).value
    except ValidationError:
        shown = str(value)[:64]
        raise ValueError(f"unknown time zone {shown!r} (use an IANA name such as Europe/Copenhagen)") from None


def _json_number(value: Any) -> Any:
    # JSON true/false are not numbers, although Python counts them as 1 and 0.
    if isinstance(value, bool):
        raise ValueError(N_("must be a whole number"))
    return value


# An IANA time zone name; the schema lists them (component `TimeZone`), the value is a plain str.
TimeZoneName = Annotated[ZoneName, WrapValidator(_zone), PlainSerializer(str, return_type=str)]


def whole_number(**bounds: int) -> Any:
    """A JSON integer within `bounds` (ge/gt/le/lt): 3 and 3.0 (both integers to JSON Schema),
    never 3.5 or true; "3" too, for the pages' forms. The bounds precede the validator so the
    schema states them."""
    return Annotated[int, Field(strict=False, **bounds), BeforeValidator(_json_number)]
# Text PostgreSQL can store: anything but the NUL character.
NO_NUL = r"^[^\x00]*$"
# Text with something visible in it (what is left after stripping whitespace is not empty).
# \x1c-\x1f: Python's str.strip removes them, though regex \s does not name them.
VISIBLE_TEXT = r"^[^\x00]*[^\s\x00\x1c-\x1f][^\x00]*$"


def one_of_shapes(*alternatives: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """A model's `json_schema_extra` for a rule across fields: the body matches one of the
    `alternatives`, each {field: extra keywords}. A field given keywords is required ("name?":
    optional) and keeps its own constraints, so a generator honours them; None = null or left out."""

    def extend(schema: dict[str, Any]) -> None:
        props = schema["properties"]

        def own(name: str) -> dict[str, Any]:
            spec = props[name]
            return next((s for s in spec.get("anyOf", [spec]) if s.get("type") != "null"), spec)

        branches = []
        for alternative in alternatives:
            branch: dict[str, Any] = {"properties": {}}
            for key, extra in alternative.items():
                name = key.rstrip("?")
                branch["properties"][name] = {"type": "null"} if extra is None else {**own(name), **extra}
                if extra is not None and not key.endswith("?"):
                    branch.setdefault("required", []).append(name)
            branches.append(branch)
        schema.setdefault("allOf", []).append({"anyOf": branches})

    return extend


def all_of(*extensions: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """Several `one_of_shapes` rules on one model."""

    def extend(schema: dict[str, Any]) -> None:
        for extension in extensions:
            extension(schema)

    return extend


def checked(pattern: str, message: str) -> tuple[Any, ...]:
    """Annotated metadata: the schema states `pattern`; a value that misses it is refused with
    `message` (pydantic's own names the regular expression)."""
    # `$` in Python also matches before a final newline; JSON Schema's does not.
    compiled = re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)

    def check(value: str) -> str:
        if not compiled.search(value):
            raise ValueError(message)
        return value

    return AfterValidator(check), Field(json_schema_extra={"pattern": pattern})


NOT_NUL = checked(NO_NUL, N_("must not contain NUL (\\0) characters"))
VISIBLE = checked(VISIBLE_TEXT, N_("must not be blank (nor contain NUL characters)"))
