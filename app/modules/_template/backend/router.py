"""The __MODULE_NAME__ module's API, mounted under /api/v1/__MODULE_NAME__.

Requests to these routes run "as" the module, so its safety switches apply to their writes:
READ_ONLY=true makes them fail with 403; DRY_RUN=true runs them and rolls them back (see README.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, field_validator

from app.core.config import get_module_config
from app.core.database import current_acting, execute_insert, execute_query, is_dry_run, transaction
from app.core.deps import CurrentUser
from app.core.errors import NotFound
from app.core.fields import N_
from app.core.queries import load_queries

router = APIRouter()
Q = load_queries(Path(__file__).parent / "queries.sql")
MODULE = "__MODULE_NAME__"
MAX_LIST = 500


class ItemIn(BaseModel):
    # The pattern tells /openapi.json what _not_blank refuses.
    name: str = Field(min_length=1, max_length=255, json_schema_extra={"pattern": r"\S"})

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(N_("must not be blank"))
        return value.strip()


class CustomerIn(ItemIn):
    external_id: str | None = Field(default=None, max_length=100)


@router.get("/status")
def read_status(user: CurrentUser) -> dict:
    """The module's switches, as the module sees them (the API key itself is never shown)."""
    acting = current_acting()
    return {"module": MODULE, "read_only": bool(acting and acting.read_only), "dry_run": is_dry_run(),
            "api_key_set": get_module_config(MODULE, "API_KEY") is not None}


@router.get("/items")
def read_items(user: CurrentUser, limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100) -> list[dict]:
    return execute_query(Q["read_items"], {"limit": limit})


@router.post("/items", status_code=201)
def create_item(body: ItemIn, user: CurrentUser) -> dict:
    new_id = execute_insert(Q["create_item"], {"name": body.name})
    # Under DRY_RUN the insert ran and was rolled back: the id is the one it would have had.
    return {"id": new_id, "name": body.name, "dry_run": is_dry_run()}


@router.get("/customers")
def read_customers(user: CurrentUser, limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100) -> list[dict]:
    return execute_query(Q["read_customers"], {"limit": limit})


@router.get("/customers/{customer_id}")
def read_customer(customer_id: int, user: CurrentUser) -> dict:
    rows = execute_query(Q["read_customer"], {"id": customer_id})
    if not rows:
        raise NotFound("No customer with id %(id)s", id=customer_id)
    return rows[0]


@router.post("/customers", status_code=201)
def create_customer(body: CustomerIn, user: CurrentUser) -> dict:
    # One transaction: under DRY_RUN the answer still shows the hub customer it would be linked to.
    with transaction():
        new_id = execute_insert(Q["create_customer"], {"name": body.name, "external_id": body.external_id})
        row = execute_query(Q["read_customer"], {"id": new_id})[0]
    return row | {"dry_run": is_dry_run()}
