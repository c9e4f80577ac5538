"""Reminder API under /api/v1/sag: rules, my reminders and interactions, preview, queue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core import database
from app.core.deps import AdminUser, CurrentUser
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.fields import whole_number
from app.core.queries import load_queries
from app.modules.sag.reminders import channels
from app.modules.sag.reminders import mine as reminders_mine
from app.modules.sag.reminders import queue as reminders_queue
from app.modules.sag.reminders import store as reminders_store
from app.modules.sag.reminders.preview import preview_rule
from app.modules.sag.reminders.rule_bodies import TRIGGER_TYPES, DateTimeText, RuleIn, RulePatch, rule_data

router = APIRouter()
QA = load_queries(Path(__file__).parent / "queries" / "admin.sql")
MAX_PAGE = 200
RECENT_FAILURES = 20

Id = Annotated[int, PathParam(ge=1, le=2_147_483_647)]
BigId = Annotated[int, PathParam(ge=1, le=9_223_372_036_854_775_807)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
LogStatus = Literal["sent", "pending", "failed", "rate_limited", "suppressed", "deferred"]


def _page(items: list, total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


# --- rules ---------------------------------------------------------------------------------

@router.get("/reminders/rules")
def read_reminder_rules(user: CurrentUser, case_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
                        scope: Literal["all", "global"] = "all",
                        trigger_type: Literal[TRIGGER_TYPES] | None = None,  # type: ignore[valid-type]
                        active: bool | None = None, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Rules; global rules (no case) only for admins, a non-admin's list holds case rules only."""
    if scope == "global" and not user.is_admin:
        raise Forbidden("Only administrators may read global reminder rules")
    rows, total = reminders_store.read_rules(sag_id=case_id, global_only=scope == "global",
                                             cases_only=not user.is_admin, trigger_type=trigger_type,
                                             active=active, limit=limit, offset=offset)
    return _page(rows, total, limit, offset)


@router.post("/reminders/rules", status_code=201)
def create_reminder_rule(body: RuleIn, user: CurrentUser) -> dict[str, Any]:
    if body.sag_id is None and not user.is_admin:
        raise Forbidden("Only administrators may create global reminder rules (rules for every case)")
    data = rule_data(body)
    reminders_store.check_may_address(data, user)
    return reminders_store.create_rule(data, user.id, user.timezone)


@router.get("/reminders/rules/{rule_id}")
def read_reminder_rule(rule_id: Id, user: CurrentUser) -> dict[str, Any]:
    rule = reminders_store.read_rule(rule_id)
    reminders_store.check_may_read(rule, user)
    return rule


@router.patch("/reminders/rules/{rule_id}")
def update_reminder_rule(rule_id: Id, body: RulePatch, user: CurrentUser) -> dict[str, Any]:
    return reminders_store.update_rule(rule_id, rule_data(body, patch=True), user)


@router.delete("/reminders/rules/{rule_id}", status_code=204)
def delete_reminder_rule(rule_id: Id, user: CurrentUser) -> Response:
    reminders_store.delete_rule(rule_id, user)
    return Response(status_code=204)


@router.get("/cases/{case_id}/reminders/rules")
def read_case_reminder_rules(case_id: Id, user: CurrentUser, include_global: bool = False,
                             limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    if not database.execute_query(QA["case_exists"], {"id": case_id}):
        raise NotFound("case %(id)s not found", id=case_id)
    rows, total = reminders_store.read_rules(sag_id=case_id, limit=limit, offset=offset)
    result = _page(rows, total, limit, offset)
    if include_global:
        rules = reminders_store.read_rules(global_only=True, active=True, limit=MAX_PAGE)[0]
        # Non-admins learn that a global rule applies and when, not whom it addresses or its text.
        result["global_rules"] = rules if user.is_admin else [reminders_store.public_global_rule(r) for r in rules]
    return result


@router.get("/cases/{case_id}/reminders/history")
def read_case_reminder_history(case_id: Id, user: CurrentUser, limit: Limit = 50,
                               offset: Offset = 0) -> dict[str, Any]:
    if not database.execute_query(QA["case_exists"], {"id": case_id}):
        raise NotFound("case %(id)s not found", id=case_id)
    rows = database.execute_query(QA["read_case_history"], {"sag_id": case_id, "limit": limit, "offset": offset})
    total = rows[0]["total"] if rows else 0
    for r in rows:
        r.pop("total")
    return _page(rows, total, limit, offset)


@router.post("/reminders/preview")
def preview_reminder_rule(body: RuleIn, user: CurrentUser) -> dict[str, Any]:
    if body.sag_id is None and not user.is_admin:
        raise Forbidden("Only administrators may create global reminder rules (rules for every case)")
    data = rule_data(body)
    reminders_store.check_may_address(data, user)
    return preview_rule(data, user.timezone)


# --- my reminders ----------------------------------------------------------------------------

@router.get("/reminders/mine")
def read_my_reminders(user: CurrentUser, unread: bool = False, snoozed: bool = False,
                      rate_limited: bool = False, held_back: bool = False,
                      case_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
                      channel: Annotated[str | None, Query(pattern=channels.NAME_RE.pattern)] = None,
                      status: LogStatus | None = None,
                      since_id: Annotated[int | None, Query(ge=0)] = None,
                      kind: Annotated[Literal["reminder", "mention", "watch"] | None,
                                      Query(description="reminders, mentions or watched-case news")] = None,
                      group: Annotated[int | None, Query(ge=1, le=2**63 - 1,
                                                        description="the cases of one grouped reminder")] = None,
                      limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    if channel is not None and channel not in channels.registry():
        raise ValidationFailed("unknown channel %(channel)r", field="channel", channel=channel)
    rows, total = reminders_mine.list_mine(user.id, unread=unread, snoozed=snoozed,
                                           rate_limited=rate_limited or held_back, sag_id=case_id,
                                           channel=channel, status=status, since_id=since_id,
                                           kind=kind, group_id=group, limit=limit, offset=offset)
    result = _page(rows, total, limit, offset)
    result["unread_count"] = reminders_mine.unread_count(user.id)
    return result


@router.get("/reminders/mine/unread_count")
def read_my_unread_count(user: CurrentUser) -> dict[str, int]:
    return {"unread": reminders_mine.unread_count(user.id)}


LogIds = Annotated[list[whole_number(ge=1, lt=2**63)],
                   Field(min_length=1, max_length=reminders_mine.MAX_BULK_IDS)]
Preset = Literal["1h", "1d", "tomorrow_08"]


class SnoozeBody(BaseModel):
    """Snooze until a time (at least a minute and at most 30 days ahead) or by a preset."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "oneOf": [{"required": ["until"]}, {"required": ["preset"]}]})
    until: DateTimeText = None
    preset: Preset = None

    @model_validator(mode="after")
    def _one(self):
        if (self.until is None) == (self.preset is None):
            raise ValueError("give either 'until' (ISO date-time) or 'preset'")
        return self


class BulkMark(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: LogIds
    action: Literal["seen", "clicked", "dismiss", "acknowledge"]


class BulkSnooze(SnoozeBody):
    ids: LogIds
    action: Literal["snooze"]


BulkBody = Annotated[BulkMark | BulkSnooze, Field(discriminator="action")]


@router.post("/reminders/mine/bulk")
def update_my_reminders_bulk(body: BulkBody, user: CurrentUser) -> dict[str, Any]:
    ids = list(dict.fromkeys(body.ids))
    if isinstance(body, BulkSnooze):
        until = reminders_mine.snooze_until(user.id, until=body.until, preset=body.preset)
        changed = reminders_mine.snooze(user.id, ids, until)
    else:
        changed = reminders_mine.mark(user.id, ids, body.action)
    return {"updated": sorted(set(changed)), "unread_count": reminders_mine.unread_count(user.id)}


@router.get("/reminders/mine/{log_id}")
def read_my_reminder(log_id: BigId, user: CurrentUser) -> dict[str, Any]:
    return reminders_mine.read_mine(user.id, log_id)


@router.post("/reminders/mine/{log_id}/snooze")
def snooze_my_reminder(log_id: BigId, body: SnoozeBody, user: CurrentUser) -> dict[str, Any]:
    until = reminders_mine.snooze_until(user.id, until=body.until, preset=body.preset)
    reminders_mine.snooze_one(user.id, log_id, until)
    return reminders_mine.read_mine(user.id, log_id)


@router.post("/reminders/mine/{log_id}/{action}")
def update_my_reminder(log_id: BigId, action: Literal["seen", "clicked", "dismiss", "acknowledge"],
                       user: CurrentUser) -> dict[str, Any]:
    reminders_mine.own_log(user.id, log_id)
    reminders_mine.mark(user.id, [log_id], action)
    return reminders_mine.read_mine(user.id, log_id)


# --- queue (admins) -------------------------------------------------------------------------

@router.get("/reminders/queue")
def read_reminder_queue(user: AdminUser, failures: Annotated[int, Query(ge=1, le=MAX_PAGE)] = RECENT_FAILURES
                        ) -> dict[str, Any]:
    return {**reminders_queue.queue_summary(),
            "recent_failures": database.execute_query(QA["recent_failures"], {"limit": failures})}


@router.post("/reminders/queue/{event_id}/retry")
def retry_reminder_event(event_id: BigId, user: AdminUser) -> dict[str, Any]:
    with database.transaction():
        row = database.execute_query(QA["retry_event"], {"id": event_id})[0]
        if row["id"] is None:
            found = database.execute_query(QA["read_event"], {"id": event_id})
            if not found:
                raise NotFound("queue event %(id)s not found", id=event_id)
            raise Conflict("only failed events can be retried; event %(id)s is %(status)s", id=event_id,
                           status=found[0]["status"])
    return {"id": event_id, "status": "pending", "emails_requeued": row["emails"]}
