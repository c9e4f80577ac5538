"""The modules of one app: their state, and bringing them in line with the database.

`Host.refresh()` is the one place where modules change state. It reads the manifests,
the enable/disable choices in `module_state` and the applied migrations, walks the
modules dependencies-first and, for each, decides: disabled (not wanted), failed (bad
module.json, a dependency missing/disabled/failed/of the wrong version, a cycle, a
clashing prefix, a bad setting, or an error while migrating, importing or mounting) or
enabled. It runs at start-up and whenever a `bmc_module_state` notification arrives, so
every process converges on the state in the database.

The host is also where the enabled modules' contributions are asked for (navigation and
slots, template and static folders, jobs, feeds, notification kinds, extensions): each is
resolved once when the module's code loads (`code.py`) and handed out only while the
module is enabled, in load order. One host per app (`app.state.modules`); see
`app.core.modules.current_host()` for code outside a request.
"""

from __future__ import annotations

import functools
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from fastapi import FastAPI

from app.core import database, host_context, ui
from app.core.errors import HubError
from app.core.modules import code, migrate, mounting, order
from app.core.modules import manifest as mf
from app.core.modules import settings as msettings
from app.core.modules.code import ModuleFailure
from app.core.modules.listener import Listener

log = logging.getLogger("app.core.modules")

ENABLED, DISABLED, FAILED = "enabled", "disabled", "failed"
# How long starting the LISTEN thread may take before the caller goes on without it.
LISTENER_READY_S = 5.0


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
    templates_dir: Path | None = None
    contributor: ui.Contributor | None = None
    feed: Any = None
    extensions: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def logger(self) -> logging.Logger:
        return logging.getLogger(f"app.modules.{self.name}")


def read_wanted() -> dict[str, bool]:
    try:
        return {r["name"]: r["enabled"] for r in database.execute_query("SELECT name, enabled FROM module_state")}
    except psycopg.errors.UndefinedTable:
        return {}


class Host:
    """The modules of one app (or of a script, `app=None`): their state and contributions."""

    def __init__(self, app: FastAPI | None, directory: Path) -> None:
        self.app = app
        self.directory = directory
        self.records: dict[str, ModuleRecord] = {}
        # Module names dependencies-first, as of the last refresh.
        self.order: list[str] = []
        self.lock = threading.RLock()
        self.activate = True
        self._warned: set[str] = set()
        self.subscribers: list[Callable[[Host], None]] = []
        self._listener: Listener | None = None
        self._listener_users = 0
        self._listener_lock = threading.Lock()
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

    def _as_module(self, name: str, fn: Callable) -> Callable:
        """`fn` run on behalf of module `name` (its READ_ONLY / DRY_RUN apply)."""

        @functools.wraps(fn)  # keeps the signature visible (the demo command asks it)
        def call(*args, **kwargs):
            with self.acting(name):
                return fn(*args, **kwargs)

        return call

    def static_folder(self, name: str) -> Path | None:
        rec = self.records.get(name)
        return rec.static_dir if rec is not None and self.is_active(name) else None

    def template_folder(self, name: str) -> Path | None:
        """Where `<name>/...` templates come from: the module's templates/ once its code is loaded."""
        rec = self.records.get(name)
        return rec.templates_dir if rec is not None and rec.loaded else None

    # --- what the enabled modules contribute, in load order ------------------------------

    def enabled(self) -> list[ModuleRecord]:
        """The enabled modules, dependencies first."""
        return [self.records[n] for n in self.order if n in self.records and self.is_active(n)]

    def contributors(self) -> list[ui.Contributor]:
        return [r.contributor for r in self.enabled() if r.contributor is not None]

    def feeds(self) -> list[tuple[str, Any]]:
        """(module, feed) of each enabled module with a `"feed"` (see app.core.realtime.Feed)."""
        return [(r.name, r.feed) for r in self.enabled() if r.feed is not None]

    def notification_kinds(self) -> list[dict[str, Any]]:
        """{"module", "key", "label", "defaults"} of every kind of notification the enabled modules send
        ("defaults": {channel: on?} for a user without an override of that kind)."""
        return [{"module": r.name, "key": k["key"], "label": k["label"], "defaults": k.get("defaults") or {}}
                for r in self.enabled() for k in r.manifest.get("notification_kinds", [])]

    def extensions(self, point: str) -> list[tuple[str, Any]]:
        """(module, object) for every reference the enabled modules declare under `point`."""
        return [(r.name, obj) for r in self.enabled() for obj in r.extensions.get(point, [])]

    def jobs(self) -> list[tuple[str, str, Callable]]:
        """(module, job name, function) for every background job of the enabled modules."""
        return [(r.name, job, fn) for r in self.enabled() for job, fn in r.jobs]

    def demo_hooks(self) -> list[tuple[str, Callable]]:
        """(module, run) for every enabled module with `backend/demo.py` defining `run(progress, task)`."""
        hooks = []
        for rec in self.enabled():
            if (rec.manifest.folder / "backend" / "demo.py").is_file():
                run = code.resolve(rec.name, "backend.demo:run")
                hooks.append((rec.name, self._as_module(rec.name, run)))
        return hooks

    # --- following changes made by other processes ---------------------------------------

    def start_listener(self) -> None:
        """Follow enable/disable from every process (LISTEN thread; counted, so the app and
        a worker in the same process share one)."""
        with self._listener_lock:
            self._listener_users += 1
            if self._listener is None:
                self._listener = Listener(lambda names: self.refresh(retry=names)).start()
                self._listener.ready.wait(LISTENER_READY_S)

    def stop_listener(self) -> None:
        with self._listener_lock:
            self._listener_users = max(0, self._listener_users - 1)
            if self._listener_users == 0 and self._listener is not None:
                self._listener.stop()
                self._listener = None

    # --- bringing the modules in line with the database ----------------------------------

    def refresh(self, retry: set[str] | frozenset[str] = frozenset(),
                want: dict[str, bool] | None = None, activate: bool | None = None) -> list[ModuleRecord]:
        """Apply the wanted state; return the modules that failed. `retry`: names whose
        earlier failure is retried; `want`: overrides of the stored choice (enable-in-progress);
        `activate=False` only evaluates from then on (no migrations, no imports: the CLI)."""
        with self.lock, host_context.use_host(self):
            if activate is not None:
                self.activate = activate
            code.ensure_importable(self.directory)
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
            self.order, cycles = order.dependency_order(manifests)
            prefix_problems = order.prefix_problems(manifests)
            for name in self.order:
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
            # app.core.migrations logs each applied file; once is enough.
            migrate.apply_pending(m)
        if not rec.loaded:
            self._load_code(rec)
        rec.state, rec.error, rec.sticky = ENABLED, None, False
        rec.logger.info("module %s %s enabled", rec.name, m.version)

    def _load_code(self, rec: ModuleRecord) -> None:
        loaded = code.load(self.app, rec.manifest, rec.logger)
        folder = rec.manifest.folder
        rec.jobs, rec.feed, rec.extensions = loaded.jobs, loaded.feed, loaded.extensions
        rec.templates_dir = folder / "templates" if (folder / "templates").is_dir() else None
        rec.static_dir = folder / "static" if (folder / "static").is_dir() else None
        rec.contributor = self._contributor(rec, loaded.slots)
        rec.loaded = True

    def _contributor(self, rec: ModuleRecord, slots: dict[str, Callable]) -> ui.Contributor:
        name, m = rec.name, rec.manifest
        nav = [ui.NavItem(label=n["label"], url=n["url"], order=n.get("order", 100),
                          admin_only=n.get("admin_only", False), owner=name) for n in m.get("navigation", [])]
        scripts = list(m.get("scripts", []))
        return ui.Contributor(name=name, nav=lambda request: nav,
                              slots={k: self._as_module(name, f) for k, f in slots.items()},
                              scripts=lambda request: scripts,
                              active=lambda: self.is_active(name))



