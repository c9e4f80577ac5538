"""Modules API (/api/v1/modules) and the admin page (/admin/modules); admins only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from app.core.deps import AdminUser
from app.core.errors import HubError, NotFound
from app.core.i18n import error_text
from app.core.modules import service
from app.core.modules.host import Host
from app.core.templating import render

api = APIRouter(prefix="/api/v1/modules", tags=["modules"])
pages = APIRouter(prefix="/admin/modules", include_in_schema=False)

ModuleName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


def _host(request: Request) -> Host:
    # The app's own host (several apps can live in one process, e.g. in tests).
    return request.app.state.modules


def _one(host: Host, name: str) -> dict[str, Any]:
    rec = host.records.get(name)
    if rec is not None:
        return service.describe(host, rec)
    for orphan in service.orphans(host):
        if orphan["name"] == name:
            return orphan
    raise NotFound("No module named '%(name)s'", name=name)


@api.get("")
def read_modules(request: Request, admin: AdminUser) -> list[dict[str, Any]]:
    """Every module: name, version, description, state (enabled/disabled/failed), error,
    dependencies, applied and pending migrations, effective settings (secrets hidden)."""
    return service.describe_all(_host(request))


@api.get("/{name}")
def read_module(request: Request, name: ModuleName, admin: AdminUser) -> dict[str, Any]:
    return _one(_host(request), name)


@api.post("/{name}/enable")
def enable_module(request: Request, name: ModuleName, admin: AdminUser) -> dict[str, Any]:
    """Enable a module in every process (its pending migrations run first)."""
    return service.enable(_host(request), name, admin.id)


@api.post("/{name}/disable")
def disable_module(request: Request, name: ModuleName, admin: AdminUser) -> dict[str, Any]:
    """Disable a module in every process; refused while enabled modules depend on it."""
    return service.disable(_host(request), name, admin.id)


# --- admin page ------------------------------------------------------------------------------

@pages.get("")
def read_module_list(request: Request, admin: AdminUser):
    return render(request, "admin/modules.html", {"modules": service.describe_all(_host(request)),
                                                  "error": None})


@pages.post("/{name}/{action}")
async def change_module_page(request: Request, name: ModuleName, action: str, admin: AdminUser):
    if action not in ("enable", "disable"):
        raise NotFound("Unknown action")
    change = service.enable if action == "enable" else service.disable
    try:
        await run_in_threadpool(change, _host(request), name, admin.id)
    except HubError as exc:
        modules = await run_in_threadpool(service.describe_all, _host(request))
        return render(request, "admin/modules.html", {"modules": modules, "error": error_text(exc)}, exc.status)
    return RedirectResponse("/admin/modules?notice=saved", status_code=303)
