"""Create a module from `app/modules/_template/` (`create_module.py` and `bmc-hub create-module`).

Placeholders in the template's files and file names are replaced:
`__MODULE_NAME__` (webshop), `__MODULE_TITLE__` (Webshop), `__MODULE_ENV__` (WEBSHOP),
`__TABLE_PREFIX__` (webshop_), `__MODULE_DESCRIPTION__`. Files ending in `.tmpl` lose
the suffix (so the template's own test is not collected by pytest), and
`tests/test_module.py` becomes `tests/test_<name>.py`. The module's own Danish catalog
(`locale/da/LC_MESSAGES/messages.po`) comes along, compiled for the new module.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from app.core import i18n_catalogs
from app.core.errors import ValidationFailed
from app.core.modules.manifest import DEFAULT_MODULES_DIR, modules_dir, name_problem

TEMPLATE_DIR = DEFAULT_MODULES_DIR / "_template"
MAX_DESCRIPTION = 300
SKIP = ("__pycache__", ".pytest_cache")


def create_module(name: str, description: str, target_dir: Path | None = None) -> Path:
    """Copy the template into `<modules dir>/<name>`; return the new folder."""
    problem = name_problem(name)
    if problem:
        raise ValidationFailed(problem, field="name")
    description = " ".join((description or "").split())
    if not description:
        raise ValidationFailed("a description is required", field="description")
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed("the description is longer than %(n)s characters", field="description",
                               n=MAX_DESCRIPTION)
    target_dir = target_dir or modules_dir()
    folder = target_dir / name
    if folder.exists():
        raise ValidationFailed("a module named '%(name)s' already exists (%(folder)s)", field="name",
                               name=name, folder=folder)
    values = {
        "__MODULE_NAME__": name,
        "__MODULE_TITLE__": name.replace("_", " ").title(),
        "__MODULE_ENV__": name.upper(),
        "__TABLE_PREFIX__": f"{name}_",
        # JSON-escaped without the quotes: valid in module.json, harmless elsewhere.
        "__MODULE_DESCRIPTION__": json.dumps(description)[1:-1],
    }
    staging = target_dir / f".{name}.creating"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for source in sorted(TEMPLATE_DIR.rglob("*")):
            rel = source.relative_to(TEMPLATE_DIR)
            # A compiled catalog is binary: compiled again below from the filled-in .po.
            if any(part in SKIP for part in rel.parts) or source.suffix in (".pyc", ".mo"):
                continue
            dest = staging / _fill(str(rel), values)
            if dest.suffix == ".tmpl":
                dest = dest.with_suffix("")
            if dest.name == "test_module.py":
                dest = dest.with_name(f"test_{name}.py")
            if source.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(_fill(source.read_text(encoding="utf-8"), values), encoding="utf-8")
        for po in sorted((staging / "locale").glob("*/LC_MESSAGES/messages.po")):
            i18n_catalogs.compile_catalog(i18n_catalogs.Package(name, staging, staging / "locale"), po.parts[-3])
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text
