"""Jinja2 templates: the core's own plus one folder per module (`<module>/<file>.html`).

`<module>/...` is looked up in the templates folder of that module as the current module
host knows it (`app.core.host_context`: the request's app, the running job's host), so one
environment serves every app in the process. Autoescaping is on for every template; text
that must be HTML is marked so explicitly.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, TemplateNotFound, select_autoescape

from app.core import formats, host_context, i18n, ui
from app.core.i18n import lazy_gettext

CORE_TEMPLATES = Path(__file__).parent / "templates"

NOTICES = {
    "saved": lazy_gettext("Saved."),
    "created": lazy_gettext("Created."),
    "deleted": lazy_gettext("Deleted."),
    "logged_out": lazy_gettext("You are signed out."),
    "password_changed": lazy_gettext("Password changed."),
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


def _user_zone(request: Request | None) -> str | None:
    user = getattr(getattr(request, "state", None), "user", None) if request is not None else None
    return getattr(user, "timezone", None)


def _localtime(value, request: Request | None = None, fmt: str | None = None, style: str = "medium") -> str:
    """A moment in the reader's zone and language ("1. dec. 2026 14.05"); `fmt` (strftime)
    for machine-read values such as a form field's "%Y-%m-%dT%H:%M"."""
    if value is None or value == "":
        return ""
    if fmt is not None:
        local = formats.to_local(value, _user_zone(request)) if isinstance(value, datetime) else value
        return local.strftime(fmt)
    if isinstance(value, datetime):
        return formats.format_datetime(value, style, _user_zone(request))
    return formats.format_date(value, style)


def _localdate(value, request: Request | None = None, style: str = "medium") -> str:
    return formats.format_date(value, style, _user_zone(request))


def _reltime(value, now: datetime | None = None) -> str:
    return formats.format_relative(value, now)


def _localized(row: Any, field: str) -> Any:
    """`row[field]` in the reader's language: `row[field + "_da"]` for Danish when present
    (data with a label per language, such as a case status: `status_label` / `status_label_da`)."""
    get = row.get if isinstance(row, dict) else lambda k, d=None: getattr(row, k, d)
    language = i18n.get_language()
    if language != "en":
        translated = get(f"{field}_{language}")
        if translated:
            return translated
    return get(field)


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
        "lang": i18n.get_language(),
        "languages": i18n.LANGUAGES,
        "default_language": i18n.default_language(),
        "js_messages": i18n.js_messages(),
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
        extensions=["jinja2.ext.i18n"],
    )
    # Looked up at render time, in the language of the running request or recipient.
    env.install_gettext_callables(
        lambda message: i18n.translations().gettext(message),
        lambda singular, plural, n: i18n.translations().ngettext(singular, plural, n),
        newstyle=True,
        pgettext=lambda context, message: i18n.translations().pgettext(context, message),
    )
    # {% trans %} blocks are extracted trimmed (whitespace collapsed); look them up the same way.
    env.policies["ext.i18n.trimmed"] = True
    env.globals["ui_slot"] = ui.slot
    env.filters["localtime"] = _localtime
    env.filters["localdate"] = _localdate
    env.filters["reltime"] = _reltime
    env.filters["number"] = lambda value, decimals=None: formats.format_number(value, decimals=decimals)
    env.filters["duration"] = formats.format_duration
    env.filters["localized"] = _localized
    return env


env = _make_env()
templates = Jinja2Templates(env=env, context_processors=[_base_context])


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200):
    # The app's host also outside its middleware (an error page rendered by the outermost handler).
    with host_context.use_host(getattr(request.app.state, "modules", None) or host_context.active_host()):
        return templates.TemplateResponse(request, name, context or {}, status_code=status_code)
