"""SLA policies in the database: list, read, create, replace, delete. A policy says which
cases it applies to, its targets in working minutes, its calendar and its pause statuses;
closed statuses fulfil it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from app.core import database
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.i18n import gettext as _
from app.core.queries import load_queries
from app.modules.sag.sla.policy_models import PolicyIn

Q = load_queries(Path(__file__).parent / "queries" / "policies.sql")


def list_policies() -> list[dict[str, Any]]:
    return database.execute_query(Q["list_policies"], {"id": None})


def get_policy(policy_id: int) -> dict[str, Any]:
    rows = database.execute_query(Q["list_policies"], {"id": policy_id})
    if not rows:
        raise NotFound("SLA policy %(id)s not found", id=policy_id)
    return rows[0]


def statuses() -> list[dict[str, Any]]:
    return database.execute_query(Q["statuses"])


def priority_label(key: str) -> str:
    """A case priority's name in the reader's language."""
    return {"low": _("Low"), "normal": _("Normal"), "high": _("High"), "urgent": _("Urgent")}.get(key, key)


def scope_text(policy: dict[str, Any] | PolicyIn) -> str:
    """Which cases the policy covers, in the reader's language ("customer Alfa and priority high")."""
    p = policy if isinstance(policy, dict) else policy.model_dump()
    customer = p.get("customer_name") or p["customer_id"]
    priority = priority_label(p["priority"]).lower() if p["priority"] else None
    if customer and priority:
        return _("customer %(customer)s and priority %(priority)s", customer=customer, priority=priority)
    if customer:
        return _("customer %(customer)s", customer=customer)
    if priority:
        return _("priority %(priority)s", priority=priority)
    return _("default (every other case)")


def _scope_taken(body: PolicyIn, holder: str) -> Conflict:
    """The scope is another policy's already; the message names the scope by its values, so a
    page can show it translated."""
    if body.customer_id and body.priority:
        return Conflict("Policy '%(name)s' covers customer %(customer)s and priority %(priority)s already",
                        field="priority", name=holder, customer=body.customer_id, priority=body.priority)
    if body.customer_id:
        return Conflict("Policy '%(name)s' covers customer %(customer)s already", field="customer_id",
                        name=holder, customer=body.customer_id)
    if body.priority:
        return Conflict("Policy '%(name)s' covers priority %(priority)s already", field="priority",
                        name=holder, priority=body.priority)
    return Conflict("Policy '%(name)s' is the default policy already", field="priority", name=holder)


def _check(body: PolicyIn, policy_id: int) -> None:
    """Refuse references that do not exist, with the field named (the foreign keys hold anyway)."""
    known = {s["key"]: s for s in statuses()}
    for key in body.pause_statuses:
        if key not in known:
            raise ValidationFailed("unknown status '%(key)s'; known: %(known)s", field="pause_statuses", key=key,
                                   known=", ".join(known))
        if key == "new":
            raise ValidationFailed("'new' cannot pause the clock: leaving it is the first response",
                                   field="pause_statuses")
        if known[key]["is_closed"]:
            raise ValidationFailed("'%(key)s' closes a case, which fulfils the SLA; it cannot pause it",
                                   field="pause_statuses", key=key)
    if body.customer_id and not database.execute_query(Q["customer_exists"], {"id": body.customer_id}):
        raise ValidationFailed("customer %(id)s does not exist", field="customer_id", id=body.customer_id)
    if body.calendar_id and not database.execute_query(Q["calendar_exists"], {"id": body.calendar_id}):
        raise ValidationFailed("calendar %(id)s does not exist", field="calendar_id", id=body.calendar_id)
    holder = database.execute_query(Q["scope_holder"], {"priority": body.priority, "customer_id": body.customer_id,
                                                        "id": policy_id})
    if holder:
        raise _scope_taken(body, holder[0]["name"])


def _write(body: PolicyIn, policy_id: int | None) -> int:
    fields = body.model_dump(exclude={"pause_statuses"})
    try:
        with database.transaction() as conn:
            _check(body, policy_id or 0)
            if policy_id is None:
                policy_id = database.execute_insert(Q["insert_policy"], fields)
            elif not database.execute_query(Q["update_policy"], fields | {"id": policy_id}):
                raise NotFound("SLA policy %(id)s not found", id=policy_id)
            database.execute_update(Q["delete_pause_statuses"], {"id": policy_id})
            with conn.cursor() as cur:
                cur.executemany(Q["insert_pause_status"], [{"id": policy_id, "status": s}
                                                           for s in body.pause_statuses])
    except psycopg.errors.UniqueViolation as exc:
        if "scope" in (exc.diag.constraint_name or ""):
            raise Conflict("Another policy covers the same customer and priority already", field="priority") from None
        raise Conflict("A policy named '%(name)s' exists already", field="name", name=body.name) from None
    except psycopg.errors.ForeignKeyViolation:
        # The customer, calendar or a status was deleted between the check and the write.
        raise ValidationFailed("The customer, calendar or a status no longer exists") from None
    return policy_id


def create_policy(body: PolicyIn) -> dict[str, Any]:
    return get_policy(_write(body, None))


def replace_policy(policy_id: int, body: PolicyIn) -> dict[str, Any]:
    return get_policy(_write(body, policy_id))


def delete_policy(policy_id: int) -> None:
    if not database.execute_query(Q["delete_policy"], {"id": policy_id}):
        raise NotFound("SLA policy %(id)s not found", id=policy_id)
