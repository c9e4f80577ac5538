"""Customers API (/api/v1/customers) and pages (/customers)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from app.core import customers
from app.core.customers import Customer, CustomerCreate, CustomerUpdate
from app.core.deps import AdminUser, CurrentUser
from app.core.forms import form_errors, parse_form, posted_form
from app.core.templating import render

api = APIRouter(prefix="/api/v1/customers", tags=["customers"])
pages = APIRouter(prefix="/customers", include_in_schema=False)

PageNo = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=customers.MAX_PAGE_SIZE)]
Sort = Literal["name", "-name", "created", "-created", "city"]
FORM = "customers/form.html"
CustomerForm = posted_form("active")


@api.get("")
def read_customers(user: CurrentUser, q: Annotated[str | None, Query(max_length=200)] = None,
                   active: bool | None = None, page: PageNo = 1, page_size: PageSize = 25,
                   sort: Sort = "name") -> dict:
    return customers.search_customers(q, active, page, page_size, sort)


@api.get("/{customer_id}", response_model=Customer)
def read_customer(customer_id: int, user: CurrentUser) -> dict:
    return customers.get_customer(customer_id)


@api.post("", response_model=Customer, status_code=201)
def create_customer(body: CustomerCreate, user: CurrentUser) -> dict:
    return customers.create_customer(body)


@api.patch("/{customer_id}", response_model=Customer)
def update_customer(customer_id: int, body: CustomerUpdate, user: CurrentUser) -> dict:
    return customers.update_customer(customer_id, body)


@api.delete("/{customer_id}", status_code=204)
def delete_customer(customer_id: int, user: AdminUser) -> None:
    customers.delete_customer(customer_id)


# --- pages ------------------------------------------------------------------------------

@pages.get("")
def read_customer_list(request: Request, user: CurrentUser,
                       q: Annotated[str | None, Query(max_length=200)] = None,
                       show: Literal["active", "inactive", "all"] = "active", page: PageNo = 1,
                       sort: Sort = "name"):
    active = {"active": True, "inactive": False, "all": None}[show]
    result = customers.search_customers(q, active, page, 25, sort)
    return render(request, "customers/list.html", {"result": result, "q": q or "", "show": show, "sort": sort})


@pages.get("/new")
def read_customer_create(request: Request, user: CurrentUser):
    return render(request, FORM, {"customer": {}, "errors": {}, "is_new": True})


def _blank_as_none(data: dict) -> dict:
    """An empty form field means "no value" (the name excepted: it is required)."""
    return {k: (None if v == "" and k != "name" else v) for k, v in data.items()}


@pages.post("/new")
def create_customer_page(request: Request, user: CurrentUser, posted: CustomerForm):
    data = _blank_as_none(posted)
    context = {"customer": data, "is_new": True}
    body = parse_form(CustomerCreate, data, FORM, context)
    with form_errors(FORM, context):
        created = customers.create_customer(body)
    return RedirectResponse(f"/customers/{created['id']}?notice=created", status_code=303)


@pages.get("/{customer_id}")
def read_customer_page(request: Request, customer_id: int, user: CurrentUser):
    return render(request, "customers/detail.html", {"customer": customers.get_customer(customer_id)})


@pages.get("/{customer_id}/edit")
def read_customer_edit(request: Request, customer_id: int, user: CurrentUser):
    return render(request, FORM, {"customer": customers.get_customer(customer_id), "errors": {}, "is_new": False})


@pages.post("/{customer_id}/edit")
def update_customer_page(request: Request, customer_id: int, user: CurrentUser, posted: CustomerForm):
    data = _blank_as_none(posted)
    context = {"customer": {**customers.get_customer(customer_id), **data}, "is_new": False}
    body = parse_form(CustomerUpdate, data, FORM, context)
    with form_errors(FORM, context):
        customers.update_customer(customer_id, body)
    return RedirectResponse(f"/customers/{customer_id}?notice=saved", status_code=303)
