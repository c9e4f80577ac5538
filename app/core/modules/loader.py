"""Minimal module loader (first cut; the module framework issue replaces it).

Discovers `app/modules/<name>/module.json`, applies the module's migrations, and mounts
`backend/router.py:router` under `/api/v1/<name>` and `frontend/views.py:router` under
`/<name>`. A module that fails is logged and skipped; the core keeps running.
"""

from __future__ import annotations

import importlib
import json
import logging
from pathlib import Path

from fastapi import FastAPI

from app.core import migrations, templating, ui

log = logging.getLogger("app.core.modules")
MODULES_DIR = Path(__file__).resolve().parents[2] / "modules"


def discover() -> list[tuple[str, Path, dict]]:
    found = []
    for folder in sorted(MODULES_DIR.iterdir()):
        manifest = folder / "module.json"
        if folder.name.startswith(("_", ".")) or not manifest.is_file():
            continue
        found.append((folder.name, folder, json.loads(manifest.read_text(encoding="utf-8"))))
    return found


def install(app: FastAPI) -> None:
    for name, folder, meta in discover():
        if not meta.get("enabled", True):
            continue
        try:
            migrations.apply_migrations(name, folder / "migrations")
            backend = importlib.import_module(f"app.modules.{name}.backend.router")
            app.include_router(backend.router, prefix=f"/api/v1/{name}", tags=[name])
            if (folder / "frontend" / "views.py").exists():
                views = importlib.import_module(f"app.modules.{name}.frontend.views")
                app.include_router(views.router, prefix=f"/{name}", include_in_schema=False)
            if (folder / "templates").is_dir():
                templating.register_module_templates(name, folder / "templates")
            _register_ui(name, meta)
            log.info("module %s loaded", name)
        except Exception:  # noqa: BLE001
            log.exception("module %s failed to load", name)


def demo_hooks():
    """(module, run) for every enabled module with `backend/demo.py` defining `run(progress, task)`."""
    hooks = []
    for name, folder, meta in discover():
        if meta.get("enabled", True) and (folder / "backend" / "demo.py").exists():
            mod = importlib.import_module(f"app.modules.{name}.backend.demo")
            hooks.append((name, mod.run))
    return hooks


def jobs():
    """(module, job name, function) for every background job of the enabled modules."""
    found = []
    for name, _folder, meta in discover():
        if not meta.get("enabled", True):
            continue
        for job in meta.get("jobs", []):
            module_path, _, func = job["function"].partition(":")
            mod = importlib.import_module(f"app.modules.{name}.{module_path}")
            found.append((name, job["name"], getattr(mod, func)))
    return found


def _resolve(name: str, ref: str):
    module_path, _, func = ref.partition(":")
    return getattr(importlib.import_module(f"app.modules.{name}.{module_path}"), func)


def _register_ui(name: str, meta: dict) -> None:
    nav = [ui.NavItem(label=n["label"], url=n["url"], order=n.get("order", 100),
                      admin_only=n.get("admin_only", False), owner=name) for n in meta.get("navigation", [])]
    slots = {slot: _resolve(name, ref) for slot, ref in meta.get("slots", {}).items()}
    scripts = list(meta.get("scripts", []))
    ui.register(ui.Contributor(name=name, nav=lambda request: nav, slots=slots, scripts=lambda request: scripts))
