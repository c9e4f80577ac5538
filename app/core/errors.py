"""The hub's small exception hierarchy; translated to HTTP once, in `app.main`."""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base class: `status` is the HTTP status the edge answers with."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None, **params: Any):
        """`message` in English, with `%(name)s` placeholders filled from `params`:
        `NotFound("Case %(id)s not found", id=5)`. The API answers the English text (stable
        for scripts); pages show it translated (`app.core.i18n.error_text`), looked up in the
        catalogs by `template`."""
        text = message % params if params else message
        super().__init__(text)
        self.message = text
        self.template = message
        self.params = params
        self.field = field


class FormError(HubError):
    """A posted HTML form was refused: the edge re-renders `template` with
    `context | {"errors": errors}` ({field: message}, "__all__" for the form as a whole)."""

    def __init__(self, template: str, context: dict[str, Any], errors: dict[str, str], status: int = 422):
        super().__init__(" ".join(errors.values()) or "The form has errors")
        self.template = template
        self.context = context
        self.errors = errors
        self.status = status


class ValidationFailed(HubError):
    status = 422


class NotFound(HubError):
    status = 404


class Forbidden(HubError):
    status = 403


class NotAuthenticated(HubError):
    status = 401


class Conflict(HubError):
    status = 409


class TooManyRequests(HubError):
    status = 429

    def __init__(self, message: str, *, retry_after_s: int = 60, **params: Any):
        super().__init__(message, **params)
        self.retry_after_s = retry_after_s


class DatabaseUnavailable(HubError):
    status = 503


class MigrationError(HubError):
    """A migration was refused or failed; the message names the file."""

    status = 500


class ReadOnlyViolation(HubError):
    """A module configured READ_ONLY tried to write."""

    status = 403
