"""The admin's Modules page in a real browser (Chromium via Playwright) against a live server.

The webshop example ships disabled; switching it on brings its menu entry and its page at
once, switching it off removes them again, without a restart.
"""

from __future__ import annotations

from tests.browser.conftest import browser, server, session_for, shot  # noqa: F401 - fixtures
from tests.fixtures import make_user


def _nav_labels(page) -> list[str]:
    return [t.strip() for t in page.locator("#mainNav .navbar-nav .nav-link").all_inner_texts()]


def test_admin_enables_and_disables_a_module_from_the_page(session_for):  # noqa: F811
    admin = session_for(make_user("admin"))
    page = admin.new_page("/admin/modules")
    # The webshop example ships disabled: no menu entry, no page.
    row = page.locator("tr[data-module=webshop]")
    assert row.locator(".module-state").inner_text() == "disabled"
    assert "Webshop" not in _nav_labels(page)
    assert page.goto("/webshop").status == 404
    assert "Customers" in _nav_labels(page)  # the error page keeps the navigation

    page.goto("/admin/modules")
    page.locator("tr[data-module=webshop]").get_by_role("button", name="Enable").click()
    page.wait_for_url("**/admin/modules?notice=saved")
    assert page.locator("tr[data-module=webshop] .module-state").inner_text() == "enabled"
    assert "Webshop" in _nav_labels(page)
    shot(page, "modules-admin-page")
    assert page.goto("/webshop").status == 200
    assert "linked automatically to the hub customer" in page.content()

    page.goto("/admin/modules")
    page.locator("tr[data-module=webshop]").get_by_role("button", name="Disable").click()
    page.wait_for_url("**/admin/modules?notice=saved")
    assert page.locator("tr[data-module=webshop] .module-state").inner_text() == "disabled"
    assert "Webshop" not in _nav_labels(page)
    assert page.goto("/webshop").status == 404
    assert admin.errors == []


def test_technicians_do_not_get_the_modules_page(session_for):  # noqa: F811
    user = session_for(make_user("user"))
    page = user.new_page("/")
    assert page.locator("a[href='/admin/modules']").count() == 0
    assert page.goto("/admin/modules").status == 403
