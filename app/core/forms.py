"""HTML form helpers: read a posted form into a dict, turn validation errors into messages."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import ValidationError

from app.core.auth import CSRF_FIELD

MAX_FIELD_LENGTH = 20_000


async def form_data(request: Request, bool_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """The posted fields as strings (checkboxes as booleans), without the CSRF token."""
    form = await request.form()
    data: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key == CSRF_FIELD or not isinstance(value, str):
            continue
        data[key] = value[:MAX_FIELD_LENGTH]
    for name in bool_fields:
        data[name] = name in form
    return data


def validation_messages(exc: ValidationError) -> dict[str, str]:
    """{field: message} for a form, in plain words."""
    messages: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "__all__"
        msg = err["msg"]
        ctx = err.get("ctx") or {}
        if err["type"] == "string_pattern_mismatch":
            msg = {
                "cvr_number": "A CVR number is 8 digits.",
                "email": "Enter a valid e-mail address.",
                "username": "2-64 letters, digits or . _ @ -",
            }.get(field, "Invalid format.")
        elif err["type"] == "extra_forbidden":
            msg = "Unknown field."
        elif err["type"] == "missing" or (err["type"] == "string_too_short" and ctx.get("min_length") == 1):
            msg = "This field is required."
        elif err["type"] == "string_too_short":
            msg = f"Use at least {ctx.get('min_length')} characters."
        elif err["type"] == "string_too_long":
            msg = f"Use at most {ctx.get('max_length')} characters."
        elif err["type"] in ("int_parsing", "int_type", "int_from_float"):
            msg = "Enter a whole number."
        elif err["type"] == "greater_than":
            msg = f"Must be greater than {ctx.get('gt')}."
        elif err["type"] == "less_than":
            msg = f"Must be less than {ctx.get('lt')}."
        elif err["type"] == "literal_error":
            msg = "Choose one of the offered values."
        elif msg.startswith("Value error, "):
            msg = msg.removeprefix("Value error, ")
        messages.setdefault(field, msg)
    return messages
