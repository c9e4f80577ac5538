"""Customers: the core's shared customer register (modules link to it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import psycopg
from psycopg import sql
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core import database
from app.core.errors import Conflict, NotFound
from app.core.fields import NOT_NUL, VISIBLE
from app.core.queries import load_queries

Q = load_queries(Path(__file__).parent / "queries" / "customers.sql")

# No white space: \s means slightly different characters in Python and in the JSON Schema
# (ECMAScript) regex the API advertises, so the ones only one of them counts are listed too
# and a client generated from /openapi.json agrees with the check.
_NOT_IN_EMAIL = r"@\s<>\x00\x1c-\x1f\x85\ufeff"
EMAIL_PATTERN = rf"^[^{_NOT_IN_EMAIL}]+@[^{_NOT_IN_EMAIL}]+\.[^{_NOT_IN_EMAIL}]+$"
SORTS = {
    "name": "lower(name), id",
    "-name": "lower(name) DESC, id DESC",
    "created": "created_at, id",
    "-created": "created_at DESC, id DESC",
    "city": "lower(city) NULLS LAST, lower(name)",
}
MAX_PAGE_SIZE = 200

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), *VISIBLE]
OptStr = Annotated[str, StringConstraints(strip_whitespace=True)]


def _blank_to_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, str) and v.strip() == "" and k != "name" else v) for k, v in values.items()}


class CustomerFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    cvr_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{8}$")] | None = Field(
        None, description="Danish CVR number, 8 digits")
    email: Annotated[str, StringConstraints(max_length=254, pattern=EMAIL_PATTERN)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40), *NOT_NUL] | None = None
    address: Annotated[str, StringConstraints(max_length=255), *NOT_NUL] | None = None
    postal_code: Annotated[str, StringConstraints(max_length=16), *NOT_NUL] | None = None
    city: Annotated[str, StringConstraints(max_length=100), *NOT_NUL] | None = None
    economic_customer_number: Annotated[int, Field(gt=0, lt=2**31)] | None = Field(
        None, description="Customer number in e-conomic")
    notes: Annotated[str, StringConstraints(max_length=5000), *NOT_NUL] | None = None


class CustomerCreate(CustomerFields):
    name: Name
    active: bool = True


class CustomerUpdate(CustomerFields):
    name: Name | None = None
    active: bool | None = None


class Customer(BaseModel):
    id: int
    name: str
    cvr_number: str | None
    email: str | None
    phone: str | None
    address: str | None
    postal_code: str | None
    city: str | None
    economic_customer_number: int | None
    notes: str
    active: bool
    created_at: Any
    updated_at: Any


def _unique_violation(exc: psycopg.errors.UniqueViolation) -> Conflict:
    constraint = exc.diag.constraint_name or ""
    if "cvr" in constraint:
        return Conflict("Another customer already has this CVR number", field="cvr_number")
    if "economic" in constraint:
        return Conflict("Another customer already has this e-conomic customer number",
                        field="economic_customer_number")
    return Conflict("A customer with these details already exists")


def like_escape(text: str) -> str:
    """`text` as a literal inside a LIKE pattern: its own % and _ match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_customers(q: str | None = None, active: bool | None = None, page: int = 1,
                     page_size: int = 25, sort: str = "name") -> dict[str, Any]:
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    query = sql.SQL(Q["search_customers"]).format(order=sql.SQL(SORTS.get(sort, SORTS["name"])))
    text = (q or "").strip()[:200] or None
    rows = database.execute_query(query, {
        "q": text, "pattern": f"%{like_escape(text)}%" if text else None, "active": active,
        "limit": page_size, "offset": (page - 1) * page_size,
    })
    total = rows[0]["total"] if rows else 0
    if not rows and page > 1:
        # Past the end: report the real total so the client can go back.
        total = search_customers(q, active, 1, 1, sort)["total"]
    for r in rows:
        r.pop("total", None)
    return {"items": rows, "total": total, "page": page, "page_size": page_size,
            "pages": max(1, -(-total // page_size))}


def get_customer(customer_id: int) -> dict[str, Any]:
    rows = database.execute_query(Q["read_customer"], {"id": customer_id})
    if not rows:
        raise NotFound("Customer %(id)s not found", id=customer_id)
    return rows[0]


def create_customer(data: CustomerCreate) -> dict[str, Any]:
    values = _blank_to_none(data.model_dump())
    values["notes"] = values.get("notes") or ""
    try:
        new_id = database.execute_insert(Q["create_customer"], values)
    except psycopg.errors.UniqueViolation as exc:
        raise _unique_violation(exc) from exc
    return get_customer(new_id)


def update_customer(customer_id: int, data: CustomerUpdate) -> dict[str, Any]:
    changes = _blank_to_none(data.model_dump(exclude_unset=True))
    if "notes" in changes and changes["notes"] is None:
        changes["notes"] = ""
    if "name" in changes and changes["name"] is None:
        changes.pop("name")
    if "active" in changes and changes["active"] is None:
        changes.pop("active")
    get_customer(customer_id)
    if changes:
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes
        )
        query = sql.SQL("UPDATE customers SET {} WHERE id = {}").format(assignments, sql.Placeholder("id"))
        try:
            database.execute_update(query, {**changes, "id": customer_id})
        except psycopg.errors.UniqueViolation as exc:
            raise _unique_violation(exc) from exc
    return get_customer(customer_id)


def delete_customer(customer_id: int) -> None:
    get_customer(customer_id)
    try:
        database.execute_update(Q["delete_customer"], {"id": customer_id})
    except psycopg.errors.ForeignKeyViolation as exc:
        raise Conflict(
            "This customer is still referenced (cases or module data); deactivate it instead"
        ) from exc


def customer_counts() -> dict[str, int]:
    return database.execute_query(Q["count_customers"])[0]
