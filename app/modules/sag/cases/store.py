"""Cases (sager): create, read, update, change status, assign, delete.

Every write names the version it was based on (optimistic concurrency): an update made
from a stale copy is refused with 409 instead of silently overwriting another user's
change. The status history is written by a database trigger in the same transaction,
attributed to the acting user that `app.core.database` hands to the database.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, field_validator
from pydantic.json_schema import SkipJsonSchema

from app.core import database
from app.core.config import get_settings
from app.core.errors import Conflict, HubError, NotFound, ValidationFailed
from app.core.fields import NO_NUL, VISIBLE_TEXT, checked, whole_number
from app.core.queries import load_queries

Q = load_queries(Path(__file__).parent / "queries" / "cases.sql")

MODULE = "sag"
PRIORITIES = ("low", "normal", "high", "urgent")
TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
NOTE_MAX = 500
# A case that is open and due within this many hours is "due soon" (highlighted in lists).
DUE_SOON_HOURS = 24
# Deadlines outside these years are typing mistakes, not plans.
DEADLINE_MIN_YEAR, DEADLINE_MAX_YEAR = 2000, 2100
# The same bound as the schema states it (a date-time that starts with a year 2000-2100).
DEADLINE_PATTERN = r"^(20[0-9]{2}|2100)-"
# A status key as sag_statuses holds them; which keys exist is the database's to say.
STATUS_KEY_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
SEEDED_STATUSES = ["new", "in_progress", "waiting_customer", "on_hold", "resolved", "closed"]


def N_(text: str) -> str:  # noqa: N802 - the extractor's marker name
    """Marks a validator's message for the catalog; it stays English here (the API's text) and
    the form shows it translated (`app.core.forms.validation_messages` looks it up)."""
    return text


# Written out (not formatted from the years above) so the catalog holds it: change them together.
DEADLINE_RANGE_MESSAGE = N_("deadline must be between 2000 and 2100")


def no_nul(value: str) -> str:
    """PostgreSQL text cannot hold NUL characters; say so instead of failing in the database."""
    if "\x00" in value:
        raise ValueError(N_("must not contain NUL (\\0) characters"))
    return value


Priority = Literal["low", "normal", "high", "urgent"]
# The schema states these as patterns; the validators keep readable messages for the forms.
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX),
                  AfterValidator(no_nul), Field(json_schema_extra={"pattern": VISIBLE_TEXT})]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX), AfterValidator(no_nul),
                        Field(json_schema_extra={"pattern": NO_NUL})]
StatusKey = Annotated[str, StringConstraints(strip_whitespace=True), *checked(
    STATUS_KEY_PATTERN, N_("must be a status key such as 'new' (see GET /api/v1/sag/statuses)")),
    Field(description="A key of GET /api/v1/sag/statuses", examples=SEEDED_STATUSES)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=NOTE_MAX), AfterValidator(no_nul),
                 Field(json_schema_extra={"pattern": NO_NUL})]
Id = whole_number(gt=0, lt=2**31)
Version = whole_number(ge=1, lt=2**31)


class PreconditionRequired(HubError):
    """An update came without the version it was based on."""

    status = 428


class NotWritten(HubError):
    """The module runs with DRY_RUN: the write ran, was logged and rolled back."""

    status = 409


def _dry_run() -> bool:
    return database.is_dry_run()


def _not_written() -> NotWritten:
    return NotWritten("Module %(module)s runs with DRY_RUN (MODULES__%(key)s__DRY_RUN): "
                      "the change was logged, not written", module=MODULE, key=MODULE.upper())


def _check_deadline(value: datetime) -> datetime:
    if not DEADLINE_MIN_YEAR <= value.year <= DEADLINE_MAX_YEAR:
        raise ValueError(DEADLINE_RANGE_MESSAGE)
    return value


Deadline = Annotated[datetime, AfterValidator(_check_deadline), WithJsonSchema({
    "type": "string", "format": "date-time", "pattern": DEADLINE_PATTERN,
    "description": f"Years {DEADLINE_MIN_YEAR}-{DEADLINE_MAX_YEAR}; without an offset: the user's time zone"})]


class CaseCreate(BaseModel):
    """A new case. A deadline without a time zone is read in the signed-in user's zone."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description = ""
    customer_id: Id | None = None
    status: StatusKey = "new"
    priority: Priority = "normal"
    assigned_to: Id | None = None
    deadline: Deadline | None = None


class CaseUpdate(BaseModel):
    """Changed fields of a case; `version` is the version the change was based on.

    Send `version` or the If-Match header (428 without either). Fields left out stay as they
    are; title and priority cannot be cleared, a null description clears it.
    """

    model_config = ConfigDict(extra="forbid")

    title: Title = None
    description: Description | None = None
    customer_id: Id | None = None
    priority: Priority = None
    assigned_to: Id | None = None
    deadline: Deadline | None = None
    version: Version | None = Field(None, description="Version the change is based on (or send If-Match)")
    # Not in the schema (the status changes through POST /{id}/status); accepted here only to
    # answer with a pointer to that endpoint instead of "unknown field".
    status: SkipJsonSchema[Any] = None

    @field_validator("title", "priority", mode="before")
    @classmethod
    def _not_cleared(cls, value: Any, info) -> Any:
        if value is None:
            raise ValueError(N_("title cannot be empty") if info.field_name == "title"
                             else N_("priority cannot be empty"))
        return value


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: StatusKey
    note: Note | None = None
    version: Version | None = Field(None, description="Refuse (409) unless the case is at this version")
    expected_status: StatusKey | None = Field(
        None, description="Refuse (409) unless the case is still in this status")


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: Id | None = Field(..., description="The new assignee, or null to unassign")
    version: Version | None = Field(None, description="Refuse (409) unless the case is at this version")


# --- reference checks ----------------------------------------------------------------------

def statuses() -> list[dict[str, Any]]:
    return database.execute_query(Q["list_statuses"])


def _check_status(key: str) -> None:
    known = [s["key"] for s in statuses()]
    if key not in known:
        raise ValidationFailed("Unknown status '%(status)s'; use one of: %(known)s", field="status",
                               status=key, known=", ".join(known))


def _check_customer(customer_id: int | None) -> None:
    if customer_id is not None and not database.execute_query(Q["read_customer_ref"], {"id": customer_id}):
        raise ValidationFailed("Customer %(id)s does not exist", field="customer_id", id=customer_id)


def _check_user(user_id: int | None, field: str = "assigned_to") -> None:
    if user_id is None:
        return
    rows = database.execute_query(Q["read_user_ref"], {"id": user_id})
    if not rows:
        raise ValidationFailed("User %(id)s does not exist", field=field, id=user_id)
    if not rows[0]["active"]:
        raise ValidationFailed("User %(id)s is deactivated and cannot be assigned cases", field=field, id=user_id)


def localize_deadline(value: datetime | None, timezone: str | None) -> datetime | None:
    """A deadline without a zone means wall-clock time in the user's zone (hub zone as fallback)."""
    if value is None or value.tzinfo is not None:
        return value
    try:
        zone = ZoneInfo(timezone or get_settings().timezone)
    except Exception:  # noqa: BLE001 - a broken user zone falls back to the hub's
        zone = ZoneInfo(get_settings().timezone)
    return value.replace(tzinfo=zone)


def _database_error(exc: psycopg.Error) -> HubError:
    """Turn a constraint the checks above could not see coming (a race) into a clear 4xx."""
    constraint = getattr(exc.diag, "constraint_name", None) or ""
    if isinstance(exc, psycopg.errors.ForeignKeyViolation):
        if "customer" in constraint:
            return ValidationFailed("The customer does not exist (any more)", field="customer_id")
        if "assigned" in constraint:
            return ValidationFailed("The user does not exist (any more)", field="assigned_to")
        if "status" in constraint:
            return ValidationFailed("Unknown status", field="status")
        return Conflict("The case refers to something that no longer exists")
    return ValidationFailed(exc.diag.message_primary or "The case was refused by the database")


# --- reading -------------------------------------------------------------------------------

def get_case(case_id: int) -> dict[str, Any]:
    rows = database.execute_query(Q["read_case"], {"id": case_id, "due_soon_hours": DUE_SOON_HOURS})
    if not rows:
        raise NotFound("Case %(id)s not found", id=case_id)
    return rows[0]


def get_history(case_id: int) -> list[dict[str, Any]]:
    return database.execute_query(Q["read_history"], {"id": case_id})


def get_case_with_history(case_id: int) -> dict[str, Any]:
    case = get_case(case_id)
    case["history"] = get_history(case_id)
    return case


def _stale_or_missing(case_id: int, version: int | None) -> HubError:
    rows = database.execute_query(Q["read_case_version"], {"id": case_id})
    if not rows:
        return NotFound("Case %(id)s not found", id=case_id)
    return Conflict(
        "Case %(id)s was changed by someone else (now version %(now)s, your copy is version "
        "%(version)s); reload it and apply your change again",
        field="version", id=case_id, now=rows[0]["version"], version=version,
    )


# --- writing -------------------------------------------------------------------------------

def create_case(data: CaseCreate, created_by: int | None, timezone: str | None = None) -> dict[str, Any]:
    _check_status(data.status)
    _check_customer(data.customer_id)
    _check_user(data.assigned_to)
    values = data.model_dump()
    values["deadline"] = localize_deadline(data.deadline, timezone)
    values["created_by"] = created_by
    try:
        with database.transaction():
            new_id = database.execute_insert(Q["create_case"], values)
    except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as exc:
        raise _database_error(exc) from exc
    if _dry_run():
        raise _not_written()
    return get_case(new_id)


def update_case(case_id: int, data: CaseUpdate, version: int | None = None,
                timezone: str | None = None) -> dict[str, Any]:
    """Apply the fields that were sent; `version` (or data.version) must be the current one."""
    changes = data.model_dump(exclude_unset=True)
    if "status" in changes:
        raise ValidationFailed("Change the status with POST /api/v1/sag/%(id)s/status "
                               "(it records the history entry)", field="status", id=case_id)
    body_version = changes.pop("version", None)
    if version is not None and body_version is not None and version != body_version:
        raise Conflict("If-Match and version name different versions; the case cannot be at both",
                       field="version")
    version = version if version is not None else body_version
    if version is None:
        raise PreconditionRequired(
            "Send the version your change is based on (field 'version' or header If-Match), "
            "so a concurrent change is not overwritten", field="version")
    if "description" in changes and changes["description"] is None:
        changes["description"] = ""
    if "customer_id" in changes:
        _check_customer(changes["customer_id"])
    if "assigned_to" in changes:
        current = database.execute_query(Q["read_case_version"], {"id": case_id})
        # Keeping a (since deactivated) assignee is fine; only a new assignee must be active.
        if not current or current[0]["assigned_to"] != changes["assigned_to"]:
            _check_user(changes["assigned_to"])
    if "deadline" in changes:
        changes["deadline"] = localize_deadline(changes["deadline"], timezone)
    # Setting id to itself keeps the statement valid with no fields, so an empty PATCH still
    # checks the version (and reports 409 on a stale copy).
    assignments = [sql.SQL("id = id")] + [
        sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes
    ]
    query = sql.SQL("UPDATE sag_sager SET {} WHERE id = {} AND version = {} RETURNING id").format(
        sql.SQL(", ").join(assignments), sql.Placeholder("id"), sql.Placeholder("expected_version"))
    try:
        with database.transaction():
            rows = database.execute_query(query, {**changes, "id": case_id, "expected_version": version})
    except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as exc:
        raise _database_error(exc) from exc
    if not rows:
        raise _stale_or_missing(case_id, version)
    if _dry_run():
        raise _not_written()
    return get_case(case_id)


def change_status(case_id: int, change: StatusChange) -> dict[str, Any]:
    """Move a case to another status; returns the history entry the trigger wrote."""
    _check_status(change.status)
    with database.transaction():
        database.execute_query(Q["set_status_note"], {"note": change.note or ""})
        rows = database.execute_query(Q["change_status"], {
            "id": case_id, "status": change.status, "version": change.version,
            "expected_status": change.expected_status,
        })
        if rows:
            if _dry_run():
                raise _not_written()
            entry = get_history(case_id)[-1]  # the row the status trigger just wrote
            database.execute_query(Q["set_status_note"], {"note": ""})
            entry["case"] = rows[0]
            return entry
    current = database.execute_query(Q["read_case_version"], {"id": case_id})
    if not current:
        raise NotFound("Case %(id)s not found", id=case_id)
    now = current[0]
    if change.version is not None and now["version"] != change.version:
        raise _stale_or_missing(case_id, change.version)
    if change.expected_status is not None and now["status"] != change.expected_status:
        raise Conflict("Case %(id)s was moved to '%(status)s' by someone else meanwhile; "
                       "reload it and decide again", field="expected_status", id=case_id, status=now["status"])
    raise Conflict("Case %(id)s already has status '%(status)s'", field="status", id=case_id,
                   status=change.status)


def assign_case(case_id: int, assignment: Assignment) -> dict[str, Any]:
    _check_user(assignment.user_id, field="user_id")
    try:
        rows = database.execute_query(Q["assign_case"], {
            "id": case_id, "user_id": assignment.user_id, "version": assignment.version})
    except psycopg.errors.ForeignKeyViolation as exc:
        raise ValidationFailed("The user does not exist (any more)", field="user_id") from exc
    if not rows:
        raise _stale_or_missing(case_id, assignment.version)
    if _dry_run():
        raise _not_written()
    return get_case(case_id)


def delete_case(case_id: int) -> None:
    get_case(case_id)
    try:
        deleted = database.execute_update(Q["delete_case"], {"id": case_id})
    except psycopg.errors.ForeignKeyViolation as exc:
        raise Conflict("Case %(id)s is still referenced and cannot be deleted; close it instead",
                       id=case_id) from exc
    if deleted and _dry_run():
        raise _not_written()


# --- pickers -------------------------------------------------------------------------------

def assignable_users(include_id: int | None = None) -> list[dict[str, Any]]:
    return database.execute_query(Q["list_assignable_users"], {"include_id": include_id})


def customer_choices(include_id: int | None = None) -> list[dict[str, Any]]:
    return database.execute_query(Q["list_customer_choices"], {"include_id": include_id})


def customer_summary(customer_id: int) -> dict[str, int]:
    return database.execute_query(Q["customer_case_summary"], {"customer_id": customer_id})[0]


def my_case_counts(user_id: int) -> dict[str, int]:
    return database.execute_query(Q["my_case_counts"], {"user_id": user_id, "due_soon_hours": DUE_SOON_HOURS})[0]
