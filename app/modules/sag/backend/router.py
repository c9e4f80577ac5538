"""The sag module's API, mounted under /api/v1/sag: cases and reminders."""

from fastapi import APIRouter

from app.modules.sag.backend import cases_api, reminders_api

router = APIRouter()
router.include_router(cases_api.router)
router.include_router(reminders_api.router)
