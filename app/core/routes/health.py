"""GET /health: is the app up and the database reachable (no sign-in needed)."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.core import database
from app.core.deps import public

router = APIRouter(tags=["health"])


@public
@router.get("/health")
async def read_health() -> JSONResponse:
    ok, detail = await run_in_threadpool(database.check_database)
    body = {"status": "ok" if ok else "degraded", "database": "ok" if ok else f"unreachable ({detail})"}
    return JSONResponse(body, status_code=200 if ok else 503)
