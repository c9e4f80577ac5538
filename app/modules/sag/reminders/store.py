"""Reminder rules in the database: create, change, delete, read (used by the API and the demo)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb

from app.core import database
from app.core.errors import Forbidden, NotFound
from app.core.queries import load_queries
from app.modules.sag.reminders.rules import validate_rule

Q = load_queries(Path(__file__).parent / "queries" / "rules.sql")
EDITABLE = ("name", "trigger_type", "trigger_config", "recipients", "channels", "title_template",
            "message_template", "priority", "active", "repeat_every_hours", "escalate_after", "escalate_role",
            "deliver_in_opening_hours", "opening_hours_calendar",
            "group_window_minutes")


def db_now() -> datetime:
    return database.execute_query("SELECT now() AS now")[0]["now"]


def _params(row: dict[str, Any]) -> dict[str, Any]:
    return dict(row, trigger_config=Jsonb(row["trigger_config"]), recipients=Jsonb(row["recipients"]))


def create_rule(body: dict[str, Any], created_by: int | None, timezone: str | None = None) -> dict[str, Any]:
    """`timezone`: the acting user's zone (a scheduled `at` without offset is read in it)."""
    with database.transaction():
        row = validate_rule(body, db_now(), tz=timezone)
        rule_id = database.execute_query(Q["insert_rule"], _params(dict(row, created_by=created_by)))[0]["id"]
        return read_rule(rule_id)


def stored_rule(rule_id: int) -> dict[str, Any]:
    rows = database.execute_query(Q["read_rule_row"], {"id": rule_id})
    if not rows:
        raise NotFound("reminder rule %(id)s not found", id=rule_id)
    return rows[0]


def check_may_edit(rule: dict[str, Any], user) -> None:
    """Admins edit every rule; others only case rules they created."""
    if user.is_admin:
        return
    if rule["sag_id"] is None:
        raise Forbidden("Only administrators may change global reminder rules")
    if rule["created_by"] != user.id:
        raise Forbidden("Only the rule's creator or an administrator may change it")


# What a non-admin sees of a global rule that applies to a case: what it does and when,
# never whom it addresses or what it says.
GLOBAL_RULE_PUBLIC = ("id", "name", "sag_id", "trigger_type", "trigger_config", "channels", "priority",
                      "active", "repeat_every_hours", "next_run_at")


def check_may_address(rule: dict[str, Any], user) -> None:
    """Only admins may address a whole role (as recipients or escalation) or external addresses.

    A role reaches everybody and external addresses leave the company (and bypass the users'
    hourly limits), so a non-admin's rule names people: assignee, creator, users.
    """
    if user.is_admin:
        return
    rec = rule.get("recipients") or {}
    if not isinstance(rec, dict):
        rec = rec.model_dump()
    if rec.get("roles") or rec.get("emails") or rule.get("escalate_role"):
        raise Forbidden("Only administrators may send reminders to a whole role (as recipients or by "
                        "escalation) or to external e-mail addresses; choose the assignee, the creator "
                        "or named users", field="recipients")


def check_may_read(rule: dict[str, Any], user) -> None:
    if rule["sag_id"] is None and not user.is_admin:
        raise Forbidden("Only administrators may read global reminder rules")


def public_global_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {k: rule.get(k) for k in GLOBAL_RULE_PUBLIC}


def update_rule(rule_id: int, patch: dict[str, Any], user) -> dict[str, Any]:
    with database.transaction():
        old = stored_rule(rule_id)
        check_may_edit(old, user)
        merged = {k: old[k] for k in EDITABLE}
        merged["sag_id"] = old["sag_id"]
        merged.update(patch)
        check_may_address(merged, user)
        row = validate_rule(merged, db_now(), old=old, tz=getattr(user, "timezone", None))
        database.execute_query(Q["update_rule"], _params(dict(row, id=rule_id)))
        return read_rule(rule_id)


def delete_rule(rule_id: int, user) -> None:
    with database.transaction():
        check_may_edit(stored_rule(rule_id), user)
        database.execute_query(Q["delete_rule"], {"id": rule_id})


def read_rules(*, sag_id: int | None = None, global_only: bool = False, cases_only: bool = False,
               trigger_type: str | None = None,
               active: bool | None = None, limit: int = 50, offset: int = 0,
               rule_id: int | None = None) -> tuple[list[dict[str, Any]], int]:
    rows = database.execute_query(Q["read_rules"], {
        "id": rule_id, "sag_id": sag_id, "global_only": global_only, "cases_only": cases_only,
        "trigger_type": trigger_type,
        "active": active, "limit": limit, "offset": offset})
    total = rows[0]["total"] if rows else 0
    for r in rows:
        r.pop("total", None)
    return rows, total


def read_rule(rule_id: int) -> dict[str, Any]:
    rows, _ = read_rules(rule_id=rule_id, limit=1)
    if not rows:
        raise NotFound("reminder rule %(id)s not found", id=rule_id)
    return rows[0]
