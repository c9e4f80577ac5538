"""GET /metrics: Prometheus text format, for a scraper holding METRICS_TOKEN.

Its own bearer token rather than a user's session or API token: a scraper is no person,
and the token works through the same proxy and port on every replica. With METRICS_TOKEN
unset the endpoint does not exist (404). See docs/operations.md for the scrape config.
"""

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from app.core import metrics
from app.core.config import get_settings
from app.core.deps import public

router = APIRouter(tags=["operations"])


@public
@router.get("/metrics", include_in_schema=False)
async def read_metrics(request: Request) -> Response:
    token = get_settings().metrics_token
    if not token:
        return PlainTextResponse("Not found (set METRICS_TOKEN to serve metrics)\n", status_code=404)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(), token.encode()):
        return PlainTextResponse("Unauthorized: send Authorization: Bearer <METRICS_TOKEN>\n", status_code=401,
                                 headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    body = await run_in_threadpool(metrics.exposition, request.app)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
