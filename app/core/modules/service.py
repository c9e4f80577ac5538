"""What an admin can do with modules (API, admin page and CLI share it): see, enable, disable.

The choice is stored in `module_state`; its trigger NOTIFYs every process, whose
listener refreshes its modules. The process that takes the request applies the change
itself first, so the answer already shows the new state (and, on enable, a failure to
migrate or import is reported to the admin instead of being stored as "enabled").
"""

from __future__ import annotations

from typing import Any

from app.core import database, migrations
from app.core.errors import Conflict, NotFound
from app.core.modules import manifest as mf
from app.core.modules import migrate
from app.core.modules import settings as msettings
from app.core.modules.host import DISABLED, ENABLED, FAILED, Host, ModuleRecord, read_wanted

STORE_STATE = """
INSERT INTO module_state (name, enabled, changed_by) VALUES (%s, %s, %s)
ON CONFLICT (name) DO UPDATE SET enabled = EXCLUDED.enabled, changed_by = EXCLUDED.changed_by
"""


def _record(host: Host, name: str) -> ModuleRecord:
    rec = host.records.get(name)
    if rec is None:
        raise NotFound("No module named '%(name)s'", name=name)
    return rec


def dependents(host: Host, name: str) -> list[str]:
    """Enabled modules that declare `name` as a dependency."""
    return sorted(r.name for r in host.records.values()
                  if r.wanted and r.manifest.valid and any(d.name == name for d in r.manifest.dependencies))


def enable(host: Host, name: str, user_id: int | None) -> dict[str, Any]:
    rec = _record(host, name)
    if not rec.manifest.valid:
        raise Conflict("Module %(name)s cannot be enabled: %(errors)s", name=name,
                       errors="; ".join(rec.manifest.errors))
    missing = []
    for dep in rec.manifest.dependencies:
        other = host.records.get(dep.name)
        if other is None or not other.wanted or other.state != ENABLED:
            state = "not installed" if other is None else ("disabled" if not other.wanted else other.state)
            missing.append(f"{dep.name} ({state})")
        elif not dep.allows(other.manifest.version):
            missing.append(f"{dep} (installed: {other.manifest.version})")
    if missing:
        raise Conflict("Module %(name)s needs these modules enabled first: %(missing)s", name=name,
                       missing=", ".join(missing))
    # Held until the choice is stored: the LISTEN thread's refresh (for an earlier change) reads
    # the stored choices, and between our refresh and our store it would undo the enable.
    with host.lock:
        host.refresh(retry={name}, want={name: True})
        if rec.state != ENABLED:
            message = rec.error
            host.refresh()  # back to the stored choice; the error stays visible below
            rec.error = rec.error or message
            raise Conflict("Module %(name)s could not be enabled: %(error)s", name=name, error=message)
        database.execute_update(STORE_STATE, (name, True, user_id))
    return describe(host, rec)


def disable(host: Host, name: str, user_id: int | None) -> dict[str, Any]:
    rec = _record(host, name)
    blockers = dependents(host, name)
    if blockers:
        raise Conflict("Module %(name)s cannot be disabled: enabled modules depend on it: %(modules)s. "
                       "Disable them first.", name=name, modules=", ".join(blockers))
    with host.lock:
        database.execute_update(STORE_STATE, (name, False, user_id))
        host.refresh(retry={name})
    return describe(host, rec)


def describe(host: Host, rec: ModuleRecord, applied: dict[str, dict] | None = None) -> dict[str, Any]:
    m = rec.manifest
    if applied is None:
        applied = {r["name"]: r for r in migrations.applied_migrations(rec.name)}
    try:
        pending = migrate.pending_for(m, applied) if m.valid else []
    except Exception as exc:  # noqa: BLE001 - shown, not raised: the listing must always work
        pending = [f"(cannot list: {exc})"]
    settings = rec.settings if rec.settings else (msettings.resolve(m)[0] if m.valid else [])
    deps = []
    for dep in m.dependencies:
        other = host.records.get(dep.name)
        deps.append({
            "name": dep.name, "version": dep.spec or "*",
            "installed_version": other.manifest.version if other else None,
            "state": (other.state if other else "missing"),
            "satisfied": bool(other and other.state == ENABLED and dep.allows(other.manifest.version)),
        })
    return {
        "name": rec.name,
        "version": m.version or None,
        "description": m.get("description") if m.valid else None,
        "author": m.get("author") if m.valid else None,
        "state": rec.state,
        "enabled": rec.wanted,
        "enabled_by_default": m.enabled_default,
        "error": rec.error,
        "errors": list(m.errors) if not m.valid else ([rec.error] if rec.error else []),
        "table_prefix": m.table_prefix or None,
        "dependencies": deps,
        "dependents": dependents(host, rec.name),
        "applied_migrations": [{"name": r["name"], "checksum": r["checksum"], "applied_at": r["applied_at"]}
                               for r in sorted(applied.values(), key=lambda r: (r["version"] or 0, r["name"]))],
        "pending_migrations": pending,
        "settings": msettings.public_view(settings),
        "navigation": m.get("navigation", []) if m.valid else [],
        "jobs": [j.get("name") for j in m.get("jobs", [])] if m.valid else [],
        "folder": mf.display_path(m.folder),
    }


def describe_all(host: Host) -> list[dict[str, Any]]:
    applied = migrate.applied_by_owner()
    out = [describe(host, rec, applied.get(name, {})) for name, rec in sorted(host.records.items())]
    out.extend(orphans(host, applied))
    return out


def orphans(host: Host, applied: dict[str, dict[str, dict]] | None = None) -> list[dict[str, Any]]:
    """Modules whose folder is gone but whose data (migrations, state) is still in the database."""
    applied = migrate.applied_by_owner() if applied is None else applied
    names = {o for o in applied if o != "core"} | set(read_wanted())
    out = []
    for name in sorted(names - set(host.records)):
        out.append({
            "name": name, "version": None, "description": None, "author": None, "state": DISABLED,
            "enabled": False, "enabled_by_default": False, "missing": True,
            "error": f"the folder of module {name} is missing; its data can be removed with "
                     f"`bmc-hub modules purge {name}`",
            "errors": [], "table_prefix": None, "dependencies": [], "dependents": [],
            "applied_migrations": [{"name": r["name"], "checksum": r["checksum"], "applied_at": r["applied_at"]}
                                   for r in applied.get(name, {}).values()],
            "pending_migrations": [], "settings": [], "navigation": [], "jobs": [], "folder": None,
        })
    return out


__all__ = ["enable", "disable", "describe", "describe_all", "dependents", "orphans", "FAILED"]
