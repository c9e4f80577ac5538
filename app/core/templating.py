"""Jinja2 templates: the core's own plus one folder per module (`<module>/<file>.html`).

`<module>/...` is looked up in the templates folder of that module as the current module
host knows it (`app.core.host_context`: the request's app, the running job's host), so one
environment serves every app in the process. Autoescaping is on for every template; text
that must be HTML is marked so explicitly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, TemplateNotFound, select_autoescape

from app.core import host_context, ui
from app.core.config import get_settings

CORE_TEMPLATES = Path(__file__).parent / "templates"

NOTICES = {
    "saved": "Saved.",
    "created": "Created.",
    "deleted": "Deleted.",
    "logged_out": "You are signed out.",
    "password_changed": "Password changed.",
}


class ModuleTemplates(BaseLoader):
    """`<module>/<file>` from the module's templates/ folder, asked of the current host."""

    def get_source(self, environment: Environment, template: str):
        module, _, rest = template.partition("/")
        host = host_context.active_host()
        folder = host.template_folder(module) if host is not None and rest else None
        if folder is None:
            raise TemplateNotFound(template)
        source, filename, file_uptodate = FileSystemLoader(str(folder)).get_source(environment, rest)

        def uptodate() -> bool:
            # Cached per name: stale when the file changed or the current host has another folder.
            now = host_context.active_host()
            return file_uptodate() and now is not None and now.template_folder(module) == folder

        return source, filename, uptodate


def _localtime(value, request: Request | None = None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    tz_name = get_settings().timezone
    user = getattr(getattr(request, "state", None), "user", None) if request is not None else None
    if user is not None and getattr(user, "timezone", None):
        tz_name = user.timezone
    try:
        tz = ZoneInfo(tz_name)
    except Exception:  # noqa: BLE001
        tz = ZoneInfo("UTC")
    if getattr(value, "tzinfo", None) is None:
        return value.strftime(fmt)
    return value.astimezone(tz).strftime(fmt)


def active_nav_url(path: str, urls: list[str]) -> str | None:
    """The navigation item the page belongs to: the longest URL that is a path prefix of it,
    so /shop/orders marks "Orders", not "Shop" (/shop) as well."""
    best = None
    for url in urls:
        base = url.rstrip("/")
        matches = path == "/" if url == "/" else (path == base or path.startswith(base + "/"))
        if matches and (best is None or len(url) > len(best)):
            best = url
    return best


def _base_context(request: Request) -> dict[str, Any]:
    user = getattr(request.state, "user", None)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    nav = ui.nav_items(request) if user else []
    return {
        "current_user": user,
        "csrf_token": getattr(user, "csrf_token", None) or "",
        "nav_items": nav,
        "active_nav_url": active_nav_url(request.url.path, [i.url for i in nav]),
        "admin_nav_items": ui.admin_nav_items(request) if user else [],
        "module_scripts": ui.scripts(request) if user else [],
        "notice": notice,
    }


def _make_env() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(CORE_TEMPLATES)), ModuleTemplates()]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["ui_slot"] = ui.slot
    env.filters["localtime"] = _localtime
    return env


env = _make_env()
templates = Jinja2Templates(env=env, context_processors=[_base_context])


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200):
    # The app's host also outside its middleware (an error page rendered by the outermost handler).
    with host_context.use_host(getattr(request.app.state, "modules", None) or host_context.active_host()):
        return templates.TemplateResponse(request, name, context or {}, status_code=status_code)
