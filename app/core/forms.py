"""HTML form helpers: read a posted form, validate it, and refuse it as a re-rendered form.

A page handler stays a plain `def` with no error handling of its own:

    @pages.post("/new")
    def create_customer_page(request: Request, user: CurrentUser, data: CustomerForm):
        context = {"customer": data, "is_new": True}
        body = parse_form(CustomerCreate, data, "customers/form.html", context)
        with form_errors("customers/form.html", context):
            created = customers.create_customer(body)
        return RedirectResponse(...)

`parse_form` turns a pydantic `ValidationError` into `FormError` (422, one message per field);
`form_errors` does the same for a `HubError` from the domain code (its status, its message on
its field). `app.main` renders a `FormError` once: the form template again, with the messages.
`context` may be a function, called only when the form is refused (a list the page shows
around the form need not be read on every successful post).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from app.core.auth import CSRF_FIELD
from app.core.errors import FormError, HubError, NotFound
from app.core.i18n import error_text, lookup
from app.core.i18n import gettext as _

MAX_FIELD_LENGTH = 20_000
M = TypeVar("M", bound=BaseModel)
# The template's context, or a function building it only when the form is refused.
Context = dict[str, Any] | Callable[[], dict[str, Any]]


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


def posted_form(*bool_fields: str) -> Any:
    """A dependency type for the posted form (see `form_data`), so the handler can be a plain `def`.

        CustomerForm = posted_form("active")
        def handler(request: Request, data: CustomerForm): ...
    """
    async def read(request: Request) -> dict[str, Any]:
        return await form_data(request, bool_fields)

    return Annotated[dict[str, Any], Depends(read)]


PostedForm = posted_form()


def parse_form(model: type[M], data: dict[str, Any], template: str, context: Context) -> M:
    """`data` validated as `model`; invalid input raises FormError (422) re-rendering `template`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _refused(template, context, validation_messages(exc), 422, False) from None


@contextlib.contextmanager
def form_errors(template: str, context: Context, *, one_message: bool = False,
                status: int | None = None) -> Iterator[None]:
    """Inside this block a HubError (or ValidationError) becomes a FormError re-rendering `template`.

    The answer has the error's status (422 for a ValidationError) unless `status` is given;
    `one_message` puts every message under "__all__" (a page whose fields are not the form's).
    `NotFound` passes through: what the URL names is gone, there is no form to show again.
    """
    try:
        yield
    except (FormError, NotFound):
        raise
    except ValidationError as exc:
        raise _refused(template, context, validation_messages(exc), status or 422, one_message) from None
    except HubError as exc:
        raise _refused(template, context, {exc.field or "__all__": error_text(exc)}, status or exc.status,
                       one_message) from exc


def _refused(template: str, context: Context, errors: dict[str, str], status: int,
             one_message: bool) -> FormError:
    if one_message:
        errors = {"__all__": " ".join(errors.values())}
    return FormError(template, context() if callable(context) else context, errors, status)


def validation_messages(exc: ValidationError) -> dict[str, str]:
    """{field: message} for a form, in plain words of the reader's language."""
    messages: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "__all__"
        msg = err["msg"]
        ctx = err.get("ctx") or {}
        if err["type"] == "string_pattern_mismatch":
            msg = {
                "cvr_number": _("A CVR number is 8 digits."),
                "email": _("Enter a valid e-mail address."),
                "username": _("2-64 letters, digits or . _ @ -"),
            }.get(field) or _("Invalid format.")
        elif err["type"] == "extra_forbidden":
            msg = _("Unknown field.")
        elif err["type"] == "missing" or (err["type"] == "string_too_short" and ctx.get("min_length") == 1):
            msg = _("This field is required.")
        elif err["type"] == "string_too_short":
            msg = _("Use at least %(n)s characters.", n=ctx.get("min_length"))
        elif err["type"] == "string_too_long":
            msg = _("Use at most %(n)s characters.", n=ctx.get("max_length"))
        elif err["type"] in ("int_parsing", "int_type", "int_from_float"):
            msg = _("Enter a whole number.")
        elif err["type"] == "greater_than":
            msg = _("Must be greater than %(n)s.", n=ctx.get("gt"))
        elif err["type"] == "less_than":
            msg = _("Must be less than %(n)s.", n=ctx.get("lt"))
        elif err["type"] == "literal_error":
            msg = _("Choose one of the offered values.")
        elif msg.startswith("Value error, "):
            # A validator's own message (English in the code): shown translated when the
            # catalog has it.
            msg = lookup(msg.removeprefix("Value error, "))
        messages.setdefault(field, msg)
    return messages
