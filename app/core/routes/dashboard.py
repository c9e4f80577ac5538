"""The dashboard (/) and the signed-in user's own page (/me)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.core import auth, customers
from app.core.deps import CurrentUser
from app.core.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def read_dashboard(request: Request, user: CurrentUser):
    return render(request, "dashboard.html", {"counts": customers.customer_counts()})


@router.get("/me")
def read_profile(request: Request, user: CurrentUser):
    return render(request, "profile.html", {"tokens": auth.list_api_tokens(user.id)})
