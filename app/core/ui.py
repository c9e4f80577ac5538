"""UI contribution points: navigation items, layout slots and scripts.

The core renders these places in its templates without knowing who fills them; each
enabled module of the app is a `Contributor`, held by the app's module host
(`request.app.state.modules.contributors()`).
Slots used by the core: `head`, `body_end`, `dashboard`, `customer_detail`, `navbar_right`,
`notification_preferences` (sections of the preferences page, each with its own form).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from markupsafe import Markup

from app.core import i18n
from app.core.fields import N_

log = logging.getLogger("app.core.ui")


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    icon: str = ""
    order: int = 100
    admin_only: bool = False
    owner: str = "core"


@dataclass
class Contributor:
    name: str
    nav: Callable[[Request], list[NavItem]] = lambda request: []
    # slot -> function(request, **context) -> Markup
    slots: dict[str, Callable[..., Markup | str]] = field(default_factory=dict)
    scripts: Callable[[Request], list[str]] = lambda request: []
    active: Callable[[], bool] = lambda: True


# Labels in English; shown in the reader's language (a module's from its own catalog, where
# `make i18n` puts the labels of its module.json).
CORE_NAV = [
    NavItem(N_("Dashboard"), "/", order=0),
    NavItem(N_("Customers"), "/customers", order=10),
]
ADMIN_NAV = [NavItem(N_("Users"), "/admin/users", order=900, admin_only=True),
             NavItem(N_("Modules"), "/admin/modules", order=910, admin_only=True),
             NavItem(N_("Backups"), "/admin/backups", order=920, admin_only=True)]


def _translated(items: list[NavItem]) -> list[NavItem]:
    return [dataclasses.replace(i, label=i18n.lookup(i.label)) for i in items]


def _contributors(request: Request) -> list[Contributor]:
    host = getattr(request.app.state, "modules", None)  # None: an app built without modules
    return host.contributors() if host is not None else []


def _is_admin(request: Request) -> bool:
    user = getattr(request.state, "user", None)
    return bool(user and user.is_admin)


def nav_items(request: Request) -> list[NavItem]:
    items = list(CORE_NAV)
    for c in _contributors(request):
        if not c.active():
            continue
        try:
            items.extend(c.nav(request))
        except Exception:  # noqa: BLE001 - a module's bug must not break every page
            log.exception("navigation of %s failed", c.name)
    items = _translated(items)
    items.sort(key=lambda i: (i.order, i.label))
    return [i for i in items if not i.admin_only or _is_admin(request)]


def admin_nav_items(request: Request) -> list[NavItem]:
    return _translated(ADMIN_NAV) if _is_admin(request) else []


def slot(request: Request, name: str, **context: Any) -> Markup:
    parts: list[str] = []
    for c in _contributors(request):
        fn = c.slots.get(name)
        if fn is None or not c.active():
            continue
        try:
            parts.append(str(fn(request, **context)))
        except Exception:  # noqa: BLE001
            log.exception("slot %s of %s failed", name, c.name)
    return Markup("\n".join(parts))  # noqa: S704 - providers return rendered (autoescaped) templates


def scripts(request: Request) -> list[str]:
    urls: list[str] = []
    for c in _contributors(request):
        if c.active():
            try:
                urls.extend(c.scripts(request))
            except Exception:  # noqa: BLE001
                log.exception("scripts of %s failed", c.name)
    return urls
