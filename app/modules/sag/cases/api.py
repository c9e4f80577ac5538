"""Cases API, mounted under /api/v1/sag.

Concurrency: every case carries a `version` (also sent as the `ETag` header, `"<version>"`).
PATCH must name the version it was based on, in the body (`"version": 3`) or as
`If-Match: "3"`; a stale version answers 409 and nothing is written. The status and assign
endpoints accept the same precondition optionally (the status endpoint also
`expected_status`), because they change one field the caller states outright.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response

from app.core.deps import AdminUser, CurrentUser
from app.core.errors import ValidationFailed
from app.modules.sag.cases import store as cases
from app.modules.sag.cases.listing import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_SORT,
    MAX_PAGE_SIZE,
    SEARCH_MAX,
    SORTS,
    CaseFilter,
    search_cases,
)
from app.modules.sag.cases.store import Assignment, CaseCreate, CaseUpdate, StatusChange

router = APIRouter(tags=["sag"])

# Nine digits at most: a version fits PostgreSQL's integer.
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')
IfMatch = Annotated[str, Header(max_length=40, json_schema_extra={"pattern": r'^\s*(\*|(W/)?"?[0-9]{1,9}"?)\s*$'},
                                 description='The case version as sent in ETag, e.g. "3"')]
CaseId = int
SortKey = Literal[tuple(SORTS)]  # type: ignore[valid-type]
UserRef = Annotated[str | None, Query(max_length=12, pattern=r"^(me|none|any|[0-9]{1,10})?$",
                                      description="A user id, 'me', 'none' (unassigned) or 'any'")]


def _etag(version: int) -> str:
    return f'"{version}"'


def _if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":
        return None
    m = _ETAG.match(value)
    if not m:
        raise ValidationFailed('If-Match must be a case version as sent in ETag, e.g. "3"', field="If-Match")
    return int(m.group(1))


@router.get("")
def read_cases(
    user: CurrentUser,
    status: Annotated[list[cases.StatusKey] | None,
                      Query(max_length=20, description="Status key(s) of GET /api/v1/sag/statuses",
                            examples=[cases.SEEDED_STATUSES[:2]])] = None,
    state: Literal["open", "closed", "all"] = "all",
    assignee: UserRef = None,
    created_by: UserRef = None,
    customer_id: Annotated[int | None, Query(gt=0, lt=2**31)] = None,
    priority: Annotated[list[cases.Priority] | None, Query(max_length=4)] = None,
    overdue: bool | None = None,
    due_within_hours: Annotated[int | None, Query(ge=1, le=24 * 366)] = None,
    q: Annotated[str | None, Query(max_length=SEARCH_MAX, description="Text in title/description, or #id")] = None,
    sla_state: Annotated[list[str] | None, Query(max_length=5, description="SLA state(s): ok, warning, "
                                                                         "breached, met, paused")] = None,
    sort: SortKey = DEFAULT_SORT,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> dict:
    """List cases. Filters combine with AND; `status` and `priority` may be repeated."""
    f = CaseFilter(statuses=status or [], state=state, assignee=assignee, created_by=created_by,
                   customer_id=customer_id, priorities=priority or [], overdue=overdue,
                   due_within_hours=due_within_hours, q=q, sla_states=sla_state or [])
    return search_cases(f, user.id, page, page_size, sort)


@router.get("/statuses")
def read_statuses(user: CurrentUser) -> list[dict]:
    return cases.statuses()


@router.post("", status_code=201)
def create_case(body: CaseCreate, user: CurrentUser, response: Response) -> dict:
    case = cases.create_case(body, user.id, user.timezone)
    response.headers["Location"] = f"/api/v1/sag/{case['id']}"
    response.headers["ETag"] = _etag(case["version"])
    return case


@router.get("/{case_id:int}")
def read_case(case_id: CaseId, user: CurrentUser, response: Response) -> dict:
    """One case with its status history (oldest first)."""
    case = cases.get_case_with_history(case_id)
    response.headers["ETag"] = _etag(case["version"])
    return case


@router.get("/{case_id:int}/history")
def read_case_history(case_id: CaseId, user: CurrentUser) -> list[dict]:
    cases.get_case(case_id)
    return cases.get_history(case_id)


@router.patch("/{case_id:int}")
def update_case(case_id: CaseId, body: CaseUpdate, user: CurrentUser, response: Response,
                if_match: IfMatch = None) -> dict:
    """Change fields (not the status: use POST /{id}/status). Needs `version` or If-Match."""
    case = cases.update_case(case_id, body, _if_match(if_match), user.timezone)
    response.headers["ETag"] = _etag(case["version"])
    return case


@router.post("/{case_id:int}/status")
def change_case_status(case_id: CaseId, body: StatusChange, user: CurrentUser,
                       if_match: IfMatch = None) -> dict:
    """Move the case to another status; answers the history entry (with the case's new version)."""
    version = _if_match(if_match)
    if version is not None:
        body = body.model_copy(update={"version": version})
    return cases.change_status(case_id, body)


@router.post("/{case_id:int}/assign")
def assign_case(case_id: CaseId, body: Assignment, user: CurrentUser, response: Response) -> dict:
    """Assign the case to a user (or `null` to unassign)."""
    case = cases.assign_case(case_id, body)
    response.headers["ETag"] = _etag(case["version"])
    return case


@router.delete("/{case_id:int}", status_code=204)
def delete_case(case_id: CaseId, user: AdminUser) -> None:
    """Delete a case and its history (administrators only; normally close it instead)."""
    cases.delete_case(case_id)
