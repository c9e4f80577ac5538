"""Form pages translate their errors once at the edge (FormError) and are plain functions.

The behaviour (messages next to the fields, input kept, status) is tested page by page in
test_customers_pages.py, test_users_admin.py and test_realtime_preferences.py.
"""

from __future__ import annotations

import inspect

from tests.test_route_protection import _routes

FORM_PAGES = ("/customers/new", "/customers/{customer_id}/edit", "/admin/users", "/admin/users/{user_id}",
              "/me/notifications", "/login")


def test_core_form_handlers_are_plain_functions(app):
    posted = {path: route.endpoint for path, method, route in _routes(app) if method == "POST"}
    for path in FORM_PAGES:
        assert path in posted, path
        assert not inspect.iscoroutinefunction(posted[path]), f"POST {path} is async"


def test_a_refused_form_is_rendered_again_by_the_edge(app):
    from app.core.errors import FormError

    assert FormError in app.exception_handlers
    err = FormError("customers/form.html", {"customer": {}}, {"name": "This field is required."})
    assert (err.status, err.errors, err.message) == (422, {"name": "This field is required."},
                                                     "This field is required.")
