"""Bringing a module's code into the process: routers, slots, jobs, feed and extensions.

Everything module.json names as `"<dotted path in the module folder>:<attribute>"` is
resolved here, once, when the module is first enabled; the host keeps the results on the
module's record and hands them out only while the module is enabled.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI

import app.modules as modules_package
from app.core.modules import manifest as mf
from app.core.modules import mounting


class ModuleFailure(Exception):
    pass


@dataclass
class Loaded:
    """What one module contributes, resolved."""

    slots: dict[str, Callable] = field(default_factory=dict)
    jobs: list[tuple[str, Callable]] = field(default_factory=list)
    feed: Any = None
    extensions: dict[str, list[Any]] = field(default_factory=dict)


def ensure_importable(directory: Path) -> None:
    """Modules import as `app.modules.<name>` wherever MODULES_DIR points."""
    path = str(directory)
    # Forget folders that no longer exist (a test's temporary modules directory).
    for stale in [p for p in modules_package.__path__ if p != path and not Path(p).is_dir()]:
        modules_package.__path__.remove(stale)  # type: ignore[attr-defined]
    if path not in modules_package.__path__:
        modules_package.__path__.insert(0, path)  # type: ignore[attr-defined]


def forget_imports(name: str) -> None:
    prefix = f"app.modules.{name}"
    for key in [k for k in sys.modules if k == prefix or k.startswith(prefix + ".")]:
        del sys.modules[key]


def resolve(name: str, ref: str) -> Any:
    """The object `ref` ("package.module:attr", relative to the module folder) names."""
    module_path, _, attr = ref.partition(":")
    module = importlib.import_module(f"app.modules.{name}.{module_path}")
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ModuleFailure(f"{module_path.replace('.', '/')}.py has no {attr!r} (module.json: {ref!r})") from None


def load(app: FastAPI | None, manifest: mf.Manifest, logger) -> Loaded:
    """Import the module's code and mount its routers into `app` (None: no routes, the CLI).
    On any error the module's imports are forgotten, so a later retry starts clean."""
    name, folder, m = manifest.name, manifest.folder, manifest
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
                logger.error("module %s: importing %s raised:\n%s", name, rel, traceback.format_exc())
                raise ModuleFailure(f"importing {rel} raised {type(exc).__name__}: {exc}") from None
            router = getattr(module, "router", None)
            if not isinstance(router, APIRouter):
                raise ModuleFailure(f"{rel} must define `router = APIRouter()`")
            routers.append((prefix, router))
        loaded = Loaded(
            slots={slot: resolve(name, ref) for slot, ref in m.get("slots", {}).items()},
            jobs=[(job["name"], resolve(name, job["function"])) for job in m.get("jobs", [])],
            feed=resolve(name, m.get("feed")) if m.get("feed") else None,
            extensions={point: [resolve(name, ref) for ref in refs]
                        for point, refs in m.get("extensions", {}).items()},
        )
        if app is not None:
            try:
                mounting.check_clash(app, name, routers)
            except mounting.RouteClash as exc:
                raise ModuleFailure(f"route clash: {exc}") from None
            mounting.mount(app, name, routers)
    except BaseException:
        forget_imports(name)
        raise
    return loaded
