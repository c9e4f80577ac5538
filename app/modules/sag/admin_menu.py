"""The sag module's entries in the admin menu (one slot per module): reminders, destinations, calendars,
SLA policies and report."""

from fastapi import Request
from markupsafe import Markup

from app.modules.sag.reminders import destination_pages
from app.modules.sag.reminders import pages as reminder_pages
from app.modules.sag.sla import pages as sla_pages
from app.modules.sag.sla import policy_pages, report_pages


def admin_menu(request: Request, **context) -> Markup:
    user = getattr(request.state, "user", None)
    if user is None or not user.is_admin:
        return Markup("")
    return (reminder_pages.admin_menu(request, **context) + destination_pages.admin_menu_items(request)
            + sla_pages.admin_menu_items(request)
            + policy_pages.admin_menu_items(request) + report_pages.admin_menu_items(request))
