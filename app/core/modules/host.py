"""The modules of one app: their state, and bringing them in line with the database.

`Host.refresh()` is the one place where modules change state. It reads the manifests,
the enable/disable choices in `module_state` and the applied migrations, walks the
modules dependencies-first and, for each, decides: disabled (not wanted), failed (bad
module.json, a dependency missing/disabled/failed/of the wrong version, a cycle, a
clashing prefix, a bad setting, or an error while migrating, importing or mounting) or
enabled. It runs at start-up and whenever a `bmc_module_state` notification arrives, so
every process converges on the state in the database.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from fastapi import APIRouter, FastAPI

from app.core import database, templating, ui
from app.core.errors import HubError
from app.core.modules import manifest as mf
from app.core.modules import migrate, mounting
from app.core.modules import settings as msettings

log = logging.getLogger("app.core.modules")

ENABLED, DISABLED, FAILED = "enabled", "disabled", "failed"


class ModuleFailure(Exception):
    pass


@dataclass
class ModuleRecord:
    name: str
    manifest: mf.Manifest
    state: str = DISABLED
    error: str | None = None
    wanted: bool = False
    # Set once the module's code is imported and its routes are in this app.
    loaded: bool = False
    # A failure that only a retry (enable, notification, restart) clears, vs. one from a dependency.
    sticky: bool = False
    jobs: list[tuple[str, Callable]] = field(default_factory=list)
    settings: list[dict[str, Any]] = field(default_factory=list)
    static_dir: Path | None = None

    @property
    def logger(self) -> logging.Logger:
        return logging.getLogger(f"app.modules.{self.name}")


def ensure_importable(directory: Path) -> None:
    """Modules import as `app.modules.<name>` wherever MODULES_DIR points."""
    import app.modules as pkg

    path = str(directory)
    # Forget folders that no longer exist (a test's temporary modules directory).
    for stale in [p for p in pkg.__path__ if p != path and not Path(p).is_dir()]:
        pkg.__path__.remove(stale)  # type: ignore[attr-defined]
    if path not in pkg.__path__:
        pkg.__path__.insert(0, path)  # type: ignore[attr-defined]


def _forget_imports(name: str) -> None:
    prefix = f"app.modules.{name}"
    for key in [k for k in sys.modules if k == prefix or k.startswith(prefix + ".")]:
        del sys.modules[key]


def _resolve(name: str, ref: str) -> Any:
    module_path, _, attr = ref.partition(":")
    module = importlib.import_module(f"app.modules.{name}.{module_path}")
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ModuleFailure(f"{module_path.replace('.', '/')}.py has no {attr!r} (module.json: {ref!r})") from None


def read_wanted() -> dict[str, bool]:
    try:
        return {r["name"]: r["enabled"] for r in database.execute_query("SELECT name, enabled FROM module_state")}
    except psycopg.errors.UndefinedTable:
        return {}


class Host:
    def __init__(self, app: FastAPI | None, directory: Path) -> None:
        self.app = app
        self.directory = directory
        self.records: dict[str, ModuleRecord] = {}
        self.lock = threading.RLock()
        self.activate = True
        self._warned: set[str] = set()
        self.subscribers: list[Callable[[Host], None]] = []
        # URL segments the core uses: a module of that name would clash, so it is never gated.
        self.core_segments: set[str] = set()
        self.core_api_segments: set[str] = set()
        if app is not None:
            for _top, path, _methods, _mount in mounting.flat_routes(app.router.routes):
                parts = [p for p in path.split("/") if p]
                if parts[:2] == ["api", "v1"] and len(parts) > 2:
                    self.core_api_segments.add(parts[2])
                elif parts:
                    self.core_segments.add(parts[0])

    # --- questions asked on every request ------------------------------------------------

    def is_active(self, name: str) -> bool:
        rec = self.records.get(name)
        return rec is not None and rec.state == ENABLED and (rec.loaded or self.app is None)

    def owner_of(self, path: str) -> str | None:
        """The module a URL belongs to (/api/v1/<name>/..., /<name>/..., /static/modules/<name>/...)."""
        parts = path.split("/", 5)
        if len(parts) > 3 and parts[1] == "api" and parts[2] == "v1":
            name = parts[3]
            return name if name in self.records and name not in self.core_api_segments else None
        if len(parts) > 3 and parts[1] == "static" and parts[2] == "modules":
            return parts[3] if parts[3] in self.records else None
        name = parts[1] if len(parts) > 1 else ""
        return name if name in self.records and name not in self.core_segments else None

    def acting(self, name: str):
        """Run a block as module `name`, with its READ_ONLY / DRY_RUN switches (a context manager)."""
        rec = self.records.get(name)
        return msettings.acting(name, rec.manifest if rec is not None else None)

    def static_folder(self, name: str) -> Path | None:
        rec = self.records.get(name)
        return rec.static_dir if rec is not None and self.is_active(name) else None

    # --- bringing the modules in line with the database ----------------------------------

    def refresh(self, retry: set[str] | frozenset[str] = frozenset(),
                want: dict[str, bool] | None = None, activate: bool | None = None) -> list[ModuleRecord]:
        """Apply the wanted state; return the modules that failed. `retry`: names whose
        earlier failure is retried; `want`: overrides of the stored choice (enable-in-progress);
        `activate=False` only evaluates from then on (no migrations, no imports: the CLI)."""
        with self.lock:
            if activate is not None:
                self.activate = activate
            ensure_importable(self.directory)
            manifests = mf.discover(self.directory)
            wanted = read_wanted()
            wanted.update(want or {})
            applied = migrate.applied_by_owner()
            for name in list(self.records):
                if name not in manifests:
                    self._deactivate(self.records.pop(name))
            for name, manifest in manifests.items():
                rec = self.records.setdefault(name, ModuleRecord(name, manifest))
                if not rec.loaded:
                    rec.manifest = manifest
                for warning in manifest.warnings:
                    if warning not in self._warned:
                        self._warned.add(warning)
                        rec.logger.warning("%s", warning)
            order, cycles = _dependency_order(manifests)
            prefix_problems = _prefix_problems(manifests)
            for name in order:
                rec = self.records[name]
                rec.wanted = wanted.get(name, rec.manifest.enabled_default if rec.manifest.valid else False)
                self._settle(rec, retry, applied.get(name, {}), cycles.get(name) or prefix_problems.get(name))
            for sub in list(self.subscribers):
                try:
                    sub(self)
                except Exception:  # noqa: BLE001
                    log.exception("module state subscriber failed")
            return [r for r in self.records.values() if r.state == FAILED and (r.wanted or not r.manifest.valid)]

    def _settle(self, rec: ModuleRecord, retry, applied: dict[str, dict], structural: str | None) -> None:
        if not rec.manifest.valid:
            self._fail(rec, "; ".join(rec.manifest.errors), sticky=True)
            return
        if not rec.wanted:
            self._deactivate(rec)
            rec.state, rec.error = DISABLED, None
            return
        problem = structural or self._dependency_problem(rec)
        if problem:
            self._deactivate(rec)
            self._fail(rec, problem, sticky=False)
            return
        if rec.state == FAILED and rec.sticky and rec.name not in retry:
            return
        try:
            if rec.state == ENABLED:
                # Still enabled; only migrations that appeared meanwhile (purge + enable) need running.
                if self.activate and migrate.pending_for(rec.manifest, applied):
                    migrate.apply_pending(rec.manifest)
                return
            if not self.activate:
                rec.settings, problems = msettings.resolve(rec.manifest)
                if problems:
                    raise ModuleFailure("; ".join(problems))
                rec.state, rec.error = ENABLED, None
                return
            self._activate(rec, applied)
        except ModuleFailure as exc:
            self._fail(rec, str(exc), sticky=True)
        except HubError as exc:
            self._fail(rec, exc.message, sticky=True)
        except Exception as exc:  # noqa: BLE001 - anything a module does wrong stays in the module
            rec.logger.debug("traceback:\n%s", traceback.format_exc())
            self._fail(rec, f"{type(exc).__name__}: {exc}", sticky=True)

    def _dependency_problem(self, rec: ModuleRecord) -> str | None:
        for dep in rec.manifest.dependencies:
            other = self.records.get(dep.name)
            if other is None:
                return f"requires module {dep.name}, which is not installed"
            if not other.manifest.valid:
                return f"requires module {dep.name}, which has an invalid module.json"
            if not dep.allows(other.manifest.version):
                return f"requires {dep}, but {dep.name} is version {other.manifest.version}"
            if not other.wanted:
                return f"requires module {dep.name}, which is disabled"
            if other.state != ENABLED:
                return f"requires module {dep.name}, which failed: {other.error}"
        return None

    def _fail(self, rec: ModuleRecord, message: str, sticky: bool) -> None:
        if rec.state == FAILED and rec.error == message:
            return
        rec.state, rec.error, rec.sticky = FAILED, message, sticky
        rec.logger.error("module %s failed: %s", rec.name, message)

    def _deactivate(self, rec: ModuleRecord) -> None:
        if rec.state == ENABLED:
            rec.logger.info("module %s disabled", rec.name)
        rec.state = DISABLED

    def _activate(self, rec: ModuleRecord, applied: dict[str, dict]) -> None:
        m = rec.manifest
        rec.settings, problems = msettings.resolve(m)
        if problems:
            raise ModuleFailure("; ".join(problems))
        if migrate.pending_for(m, applied):
            for name in migrate.apply_pending(m):
                rec.logger.info("module %s: applied migration %s", rec.name, name)
        if not rec.loaded:
            self._load_code(rec)
        rec.state, rec.error, rec.sticky = ENABLED, None, False
        rec.logger.info("module %s %s enabled", rec.name, m.version)

    def _load_code(self, rec: ModuleRecord) -> None:
        name, folder, m = rec.name, rec.manifest.folder, rec.manifest
        try:
            routers: list[tuple[str, APIRouter]] = []
            for rel, prefix in (("backend/router.py", f"{mounting.API_PREFIX}/{name}"),
                                ("frontend/views.py", f"/{name}")):
                if not (folder / rel).is_file():
                    continue
                try:
                    module = importlib.import_module(f"app.modules.{name}.{rel[:-3].replace('/', '.')}")
                except BaseException as exc:  # noqa: BLE001 - SystemExit from a module is a failure too
                    if isinstance(exc, KeyboardInterrupt):
                        raise
                    rec.logger.error("module %s: importing %s raised:\n%s", name, rel, traceback.format_exc())
                    raise ModuleFailure(f"importing {rel} raised {type(exc).__name__}: {exc}") from None
                router = getattr(module, "router", None)
                if not isinstance(router, APIRouter):
                    raise ModuleFailure(f"{rel} must define `router = APIRouter()`")
                routers.append((prefix, router))
            slots = {slot: _resolve(name, ref) for slot, ref in m.get("slots", {}).items()}
            rec.jobs = [(job["name"], _resolve(name, job["function"])) for job in m.get("jobs", [])]
            if self.app is not None:
                try:
                    mounting.check_clash(self.app, name, routers)
                except mounting.RouteClash as exc:
                    raise ModuleFailure(f"route clash: {exc}") from None
                mounting.mount(self.app, name, routers)
        except BaseException:
            _forget_imports(name)
            raise
        if (folder / "templates").is_dir():
            templating.register_module_templates(name, folder / "templates")
        rec.static_dir = folder / "static" if (folder / "static").is_dir() else None
        self._register_ui(rec, slots)
        rec.loaded = True

    def _register_ui(self, rec: ModuleRecord, slots: dict[str, Callable]) -> None:
        name, m = rec.name, rec.manifest
        nav = [ui.NavItem(label=n["label"], url=n["url"], order=n.get("order", 100),
                          admin_only=n.get("admin_only", False), owner=name) for n in m.get("navigation", [])]
        scripts = list(m.get("scripts", []))

        def as_module(fn: Callable) -> Callable:
            def call(request, **context):
                with self.acting(name):
                    return fn(request, **context)
            return call

        ui.register(ui.Contributor(name=name, nav=lambda request: nav,
                                   slots={k: as_module(f) for k, f in slots.items()},
                                   scripts=lambda request: scripts,
                                   active=lambda: self.is_active(name)))


def _dependency_order(manifests: dict[str, mf.Manifest]) -> tuple[list[str], dict[str, str]]:
    """Names dependencies-first (alphabetical among equals), and the cycle message per module."""
    deps = {n: [d.name for d in m.dependencies if d.name in manifests] for n, m in manifests.items()}
    order: list[str] = []
    cycles: dict[str, str] = {}
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            loop = path[path.index(n):] + [n]
            for member in loop[:-1]:
                cycles[member] = "dependency cycle: " + " -> ".join(loop)
            return
        state[n] = 1
        for d in sorted(deps[n]):
            visit(d, path + [n])
        state[n] = 2
        order.append(n)

    for n in sorted(manifests):
        visit(n, [])
    return order, cycles


def _prefix_problems(manifests: dict[str, mf.Manifest]) -> dict[str, str]:
    """A table_prefix inside another module's prefix would let one module claim the other's tables."""
    problems: dict[str, str] = {}
    valid = sorted((m for m in manifests.values() if m.valid), key=lambda m: (len(m.table_prefix), m.name))
    for i, a in enumerate(valid):
        for b in valid[i + 1:]:
            if b.table_prefix.startswith(a.table_prefix):
                problems.setdefault(b.name, f"table_prefix \"{b.table_prefix}\" overlaps \"{a.table_prefix}\" "
                                            f"of module {a.name}; choose a prefix no other module's starts with")
    return problems
