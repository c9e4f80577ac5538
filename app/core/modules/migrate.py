"""A module's migrations: what is pending, applying them through the module checks.

The numbered files run through the core runner (`app.core.migrations`), which records
them per module (owner = module name) with checksums; `ModuleChecks` enforces the
table_prefix and the catalog rules. `pending_for` answers from one query without
taking the migration lock, so starting the hub when nothing is pending is quick.
"""

from __future__ import annotations

from app.core import migrations
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
    for row in _all_applied():
        out.setdefault(row["owner"], {})[row["name"]] = row
    return out


def _all_applied() -> list[dict]:
    import psycopg

    from app.core import database

    try:
        return database.execute_query(
            "SELECT owner, name, version, checksum, applied_at FROM schema_migrations "
            "ORDER BY owner, version NULLS LAST, applied_at")
    except psycopg.errors.UndefinedTable:
        return []


def pending_for(manifest: mf.Manifest, applied: dict[str, dict]) -> list[str]:
    """Names of the module's migration files not applied yet (raises on bad files or edits)."""
    files = migrations.discover(manifest.folder / "migrations", manifest.name)
    out = []
    for m in files:
        row = applied.get(m.name)
        if row is None:
            out.append(m.name)
        elif row["checksum"] != m.checksum:
            raise MigrationError(
                f"{manifest.name}: migration {m.name} was changed after it was applied; "
                "add a new migration instead of editing it")
    return out


def apply_pending(manifest: mf.Manifest) -> list[str]:
    """Apply the module's pending migrations in order; return the names applied."""
    return migrations.apply_migrations(manifest.name, manifest.folder / "migrations",
                                       checks_for(manifest.name, manifest))


def apply_module_script(name: str, sql: str) -> bool:
    """`execute_module_migration(name, sql)`: one script through the module checks.

    A script whose text equals one of the module's migration files is applied as that
    file (with the files before it), so the loader does not run it a second time.
    """
    manifest = _manifest(name)
    checksum = migrations.checksum_of(sql)
    files = migrations.discover(manifest.folder / "migrations", name)
    if any(m.checksum == checksum for m in files):
        apply_pending_through(manifest, checksum)
        return True
    return migrations.apply_script(name, sql, checks_for(name, manifest))


def apply_pending_through(manifest: mf.Manifest, checksum: str) -> None:
    files = migrations.discover(manifest.folder / "migrations", manifest.name)
    checks = checks_for(manifest.name, manifest)
    conn = migrations._lock_connection()
    try:
        applied = migrations._applied(conn, manifest.name)
        for m in files:
            if m.name not in applied:
                migrations._apply_one(conn, manifest.name, m, checks)
            if m.checksum == checksum:
                break
    finally:
        conn.close()
