"""The dashboard (/) and the signed-in user's own page (/me)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from app.core import auth, customers, i18n, users
from app.core.deps import CurrentUser
from app.core.errors import FormError
from app.core.forms import PostedForm
from app.core.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def read_dashboard(request: Request, user: CurrentUser):
    return render(request, "dashboard.html", {"counts": customers.customer_counts()})


@router.get("/me")
def read_profile(request: Request, user: CurrentUser):
    return render(request, "profile.html", {"tokens": auth.list_api_tokens(user.id)})


@router.post("/me/language")
def update_language_page(request: Request, user: CurrentUser, data: PostedForm):
    """The profile's language choice; "" follows the hub's LANGUAGE setting."""
    language = data.get("language") or None
    if language is not None and language not in i18n.LANGUAGES:
        raise FormError("profile.html", {"tokens": auth.list_api_tokens(user.id)},
                        {"language": i18n.gettext("Choose Dansk or English.")})
    users.set_language(user.id, language)
    # The answer is already in the new language: the next page is read with it.
    return RedirectResponse("/me?notice=saved", status_code=303)
