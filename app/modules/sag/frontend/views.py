"""The sag module's pages, mounted under /sag: cases and their notes, reminders, e-mail action and
unsubscribe links, destinations, calendars and SLA policies."""

from fastapi import APIRouter

from app.modules.sag.cases import pages as case_pages
from app.modules.sag.conversation import pages as conversation_pages
from app.modules.sag.conversation import watchers
from app.modules.sag.reminders import actions as reminder_actions
from app.modules.sag.reminders import destination_pages, digest_settings
from app.modules.sag.reminders import pages as reminder_pages
from app.modules.sag.reminders import unsubscribe as reminder_unsubscribe
from app.modules.sag.sla import pages as sla_pages
from app.modules.sag.sla import policy_pages, report_pages

router = APIRouter()
router.include_router(reminder_actions.router)
router.include_router(conversation_pages.router)
router.include_router(destination_pages.router)
router.include_router(reminder_unsubscribe.router)
router.include_router(reminder_pages.router)
router.include_router(digest_settings.pages)
router.include_router(sla_pages.router)
router.include_router(policy_pages.router)
router.include_router(watchers.pages)
router.include_router(report_pages.router)
# Routes at the mount point itself (path "", i.e. GET /sag) cannot pass through a second
# include_router, so the case pages are taken over as they are.
router.routes.extend(case_pages.router.routes)
