"""The hub's small exception hierarchy; translated to HTTP once, in `app.main`."""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base class: `status` is the HTTP status the edge answers with."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
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

    def __init__(self, message: str, *, retry_after_s: int = 60):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class DatabaseUnavailable(HubError):
    status = 503


class MigrationError(HubError):
    """A migration was refused or failed; the message names the file."""

    status = 500


class ReadOnlyViolation(HubError):
    """A module configured READ_ONLY tried to write."""

    status = 403
