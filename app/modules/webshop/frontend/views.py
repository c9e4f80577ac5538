"""The webshop module's page, mounted under /webshop: its customers and their hub customers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from app.core.deps import CurrentUser
from app.core.forms import PostedForm, form_errors, parse_form
from app.core.templating import render
from app.modules.webshop.backend.router import CustomerIn, add_customer, list_customers

router = APIRouter()
PAGE = "webshop/index.html"
PAGE_ROWS = 200


def _context(form: dict) -> dict:
    customers = list_customers(PAGE_ROWS)
    return {"customers": customers, "linked": sum(1 for c in customers if c["hub_customer_id"]), "form": form}


@router.get("")
def read_index(request: Request, user: CurrentUser):
    return render(request, PAGE, _context({}) | {"errors": {}})


@router.post("/customers")
def create_customer_page(request: Request, user: CurrentUser, posted: PostedForm):
    data = {"name": posted.get("name", ""), "external_id": posted.get("external_id") or None}
    def context() -> dict:
        return _context(data)

    body = parse_form(CustomerIn, data, PAGE, context)
    with form_errors(PAGE, context):
        add_customer(body)
    return RedirectResponse("/webshop?notice=created", status_code=303)
