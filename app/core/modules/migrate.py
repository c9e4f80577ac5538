"""A module's migrations and function files: what is pending, applying them through the module checks.

The numbered files (`migrations/NNN_*.sql`) and the function files (`functions/*.sql`
anywhere in the module's folder) run through the core runner (`app.core.migrations`),
which records them per module (owner = module name) with checksums; `ModuleChecks`
enforces the naming rules (table_prefix, the module's name in function names) and the
catalog rules on both. `pending_for` answers without taking the migration lock, so
starting the hub when nothing is pending is quick.

Like the runner, this file never imports `app.core.database`: that file re-offers
`execute_module_migration` from here.
"""

from __future__ import annotations

import logging

from app.core import function_files, migrations
from app.core.errors import MigrationError
from app.core.modules import manifest as mf
from app.core.modules.checks import ModuleChecks


def _manifest(name: str) -> mf.Manifest:
    found = mf.discover().get(name)
    if found is None:
        raise MigrationError(f"{name}: no module named {name!r} in {mf.display_path(mf.modules_dir())}")
    if not found.valid:
        raise MigrationError(f"{name}: module.json is invalid: {'; '.join(found.errors)}")
    return found


def checks_for(name: str, manifest: mf.Manifest | None = None) -> list[migrations.Check]:
    manifest = manifest or _manifest(name)
    return [ModuleChecks(name, manifest.table_prefix)]


def applied_by_owner() -> dict[str, dict[str, dict]]:
    """{owner: {migration name: row}} for every owner, in one query."""
    out: dict[str, dict[str, dict]] = {}
    for row in migrations.read("SELECT owner, name, version, checksum, applied_at FROM schema_migrations "
                               "ORDER BY owner, version NULLS LAST, applied_at"):
        out.setdefault(row["owner"], {})[row["name"]] = row
    return out


def pending_for(manifest: mf.Manifest, applied: dict[str, dict]) -> list[str]:
    """Names of the module's migration files not applied yet, then of its function files whose
    text changed since they were applied (raises on bad files or edited migrations)."""
    files = migrations.discover(manifest.folder / "migrations", manifest.name)
    out = []
    for m in files:
        row = applied.get(m.name)
        if row is None or row["checksum"] != m.checksum and m.accepts(row["checksum"]):
            out.append(m.name)
        elif row["checksum"] != m.checksum:
            raise MigrationError(
                f"{manifest.name}: migration {m.name} was changed after it was applied; "
                "add a new migration instead of editing it")
    functions = function_files.discover(manifest.folder, manifest.name)
    if functions:
        recorded = migrations.applied_functions(manifest.name)
        out.extend(f.name for f in functions if recorded.get(f.name) != f.checksum)
    return out


def apply_pending(manifest: mf.Manifest) -> list[str]:
    """Apply the module's pending migrations and changed function files; return the migration names applied."""
    return migrations.apply_migrations(manifest.name, manifest.folder / "migrations",
                                       checks_for(manifest.name, manifest), functions_root=manifest.folder)


def apply_module_script(name: str, sql: str) -> bool:
    """One script through the module checks.

    A script whose text equals one of the module's migration files is applied as that
    file (with the files before it, and the module's function files), so the loader
    does not run it a second time.
    """
    manifest = _manifest(name)
    checksum = migrations.checksum_of(sql)
    files = migrations.discover(manifest.folder / "migrations", name)
    if any(m.checksum == checksum for m in files):
        migrations.apply_migrations(name, manifest.folder / "migrations", checks_for(name, manifest),
                                    functions_root=manifest.folder, through=checksum)
        return True
    return migrations.apply_script(name, sql, checks_for(name, manifest))


def execute_module_migration(module_name: str, migration_sql: str) -> bool:
    """`app.core.database.execute_module_migration`: True when applied (or already applied),
    False when refused or failed, with the reason logged under the module's name."""
    try:
        return apply_module_script(module_name, migration_sql)
    except MigrationError as exc:
        logging.getLogger(f"app.modules.{module_name}").error("migration refused: %s", exc.message)
        return False
