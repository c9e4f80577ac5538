"""The API documentation: /docs (Swagger UI) and /openapi.json, for signed-in users only.

Swagger UI's files come from the `swagger-ui-bundle-v2` wheel (mounted at /static/swagger),
so the docs work offline like the rest of the hub. The schema declares bearer tokens, so
"Authorize" in the docs takes a personal API token and "Try it out" then works.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from app.core.deps import CurrentUser

router = APIRouter(include_in_schema=False)

SWAGGER_URL = "/static/swagger"
BEARER_SCHEME = {"bearerToken": {"type": "http", "scheme": "bearer",
                                 "description": "A personal API token (`bmc-hub create-token USER`)"}}


def swagger_dist() -> Path:
    """Where the `swagger-ui-bundle-v2` wheel keeps Swagger UI's dist files."""
    return Path(swagger_ui_bundle.swagger_ui_path)


def openapi_schema(request: Request) -> dict:
    app = request.app
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes)
        schema.setdefault("components", {})["securitySchemes"] = BEARER_SCHEME
        schema["security"] = [{"bearerToken": []}]
        app.openapi_schema = schema
    return app.openapi_schema


@router.get("/openapi.json")
def read_openapi(request: Request, user: CurrentUser) -> JSONResponse:
    return JSONResponse(openapi_schema(request))


@router.get("/docs")
def read_docs(request: Request, user: CurrentUser):
    return get_swagger_ui_html(
        openapi_url="/openapi.json", title="BMC Hub API",
        swagger_js_url=f"{SWAGGER_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_URL}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_URL}/favicon-32x32.png",
        swagger_ui_parameters={"persistAuthorization": True, "defaultModelsExpandDepth": 0},
    )
