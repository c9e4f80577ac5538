"""UI contributions of the cases module to core pages (declared in module.json "slots")."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from markupsafe import Markup

from app.core.templating import env
from app.modules.sag.cases import store as cases
from app.modules.sag.cases.listing import CaseFilter, search_cases

# How many open cases the customer page lists before linking to the full list.
CUSTOMER_OPEN_CASES_SHOWN = 10


def customer_detail(request: Request, customer: dict[str, Any] | None = None, **context: Any) -> Markup:
    """The customer's open cases and counts, for the core customer page."""
    user = getattr(request.state, "user", None)
    if customer is None or user is None:
        return Markup("")
    result = search_cases(CaseFilter(customer_id=customer["id"], state="open"), user.id,
                          page=1, page_size=CUSTOMER_OPEN_CASES_SHOWN, sort="deadline")
    summary = cases.customer_summary(customer["id"])
    html = env.get_template("sag/customer_cases.html").render(
        request=request, customer=customer, result=result, summary=summary)
    return Markup(html)  # noqa: S704 - rendered by the autoescaping environment


def dashboard(request: Request, **context: Any) -> Markup:
    """The signed-in user's case counts (open, overdue, due soon) with links to those views."""
    user = getattr(request.state, "user", None)
    if user is None:
        return Markup("")
    counts = cases.my_case_counts(user.id)
    html = env.get_template("sag/case_dashboard.html").render(request=request, counts=counts,
                                                             due_soon_hours=cases.DUE_SOON_HOURS)
    return Markup(html)  # noqa: S704 - rendered by the autoescaping environment
