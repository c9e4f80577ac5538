"""SLA policy API under /api/v1/sag/sla/policies: anyone signed in reads, administrators write."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from fastapi import Path as PathParam

from app.core.deps import AdminUser, CurrentUser
from app.modules.sag.sla import policies as store
from app.modules.sag.sla.policy_models import PolicyIn

router = APIRouter(prefix="/sla/policies", tags=["sag SLA policies"])

Id = Annotated[int, PathParam(ge=1, le=2_147_483_647)]


@router.get("")
def read_policies(user: CurrentUser) -> list[dict[str, Any]]:
    """Every policy, the most specific scope first (customer and priority, customer, priority, default)."""
    return store.list_policies()


@router.post("", status_code=201)
def create_policy(body: PolicyIn, admin: AdminUser, response: Response) -> dict[str, Any]:
    policy = store.create_policy(body)
    response.headers["Location"] = f"/api/v1/sag/sla/policies/{policy['id']}"
    return policy


@router.get("/{policy_id}")
def read_policy(policy_id: Id, user: CurrentUser) -> dict[str, Any]:
    return store.get_policy(policy_id)


@router.put("/{policy_id}")
def replace_policy(policy_id: Id, body: PolicyIn, admin: AdminUser) -> dict[str, Any]:
    """Replace the whole policy (fields left out take their defaults)."""
    return store.replace_policy(policy_id, body)


@router.delete("/{policy_id}", status_code=204)
def delete_policy(policy_id: Id, admin: AdminUser) -> None:
    store.delete_policy(policy_id)
