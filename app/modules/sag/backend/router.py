"""The sag module's API, mounted under /api/v1/sag: cases, notes and timeline, watchers, reminders,
destinations, calendars and SLA policies."""

from fastapi import APIRouter

from app.modules.sag.cases import api as cases_api
from app.modules.sag.conversation import api as conversation_api
from app.modules.sag.conversation import watchers
from app.modules.sag.reminders import api as reminders_api
from app.modules.sag.reminders import destinations_api, digest_settings
from app.modules.sag.sla import api as sla_api
from app.modules.sag.sla import clock_view, policies_api, report_pages

router = APIRouter()
# Routes at the mount point itself (path "", e.g. GET /api/v1/sag) cannot pass through a
# second include_router, so the case routes are taken over as they are.
router.routes.extend(cases_api.router.routes)
router.include_router(conversation_api.router)
router.include_router(reminders_api.router)
router.include_router(watchers.api)
router.include_router(destinations_api.router)
router.include_router(digest_settings.api)
router.include_router(sla_api.router)
router.include_router(policies_api.router)
router.include_router(report_pages.api_router)
router.include_router(clock_view.router)
