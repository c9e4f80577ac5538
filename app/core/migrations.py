"""SQL migration runner for the core and for modules.

Migrations are files `NNN_name.sql` (001, 002, ...) in one folder per owner (`core`, or a
module's name). Each is applied once, in order, in its own transaction, and recorded in
`schema_migrations` with its checksum. A gap or a duplicate number, a badly named file,
or an applied file whose text has changed is refused with a message naming the file.
A session-level advisory lock makes concurrent runners (two replicas starting at once)
take turns: the second finds the work done.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from app.core import database
from app.core.errors import MigrationError

log = logging.getLogger("app.core.migrations")

CORE_DIR = Path(__file__).parent / "sql"
# Any fixed number works; it only has to be the same in every process.
MIGRATION_LOCK_KEY = 7_311_640_221
FILE_PATTERN = re.compile(r"^(\d{3,})_([A-Za-z0-9_\-]+)\.sql$")

BOOTSTRAP_SQL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    owner       TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     INTEGER,
    checksum    TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, name)
);
"""

# Checks a module migration must pass, installed by the module framework:
# check(conn, owner, sql, phase) where phase is "before" (text) or "after" (catalog).
Check = Callable[[psycopg.Connection, str, str, str], None]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path | None
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def checksum_of(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


def discover(directory: Path, owner: str = "core") -> list[Migration]:
    """The migrations in `directory`, in order; refuses bad names, duplicates and gaps."""
    if not directory.is_dir():
        return []
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(
                f"{owner}: migration file {path.name} is not named NNN_name.sql (e.g. 001_init.sql)"
            )
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                f"{owner}: migrations {found[version].name} and {path.name} have the same number {version:03d}"
            )
        found[version] = Migration(version, path.name, path, path.read_text(encoding="utf-8"))
    ordered = [found[v] for v in sorted(found)]
    for expected, migration in enumerate(ordered, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"{owner}: migration {migration.name} has number {migration.version:03d}, "
                f"expected {expected:03d} (numbers must run 001, 002, ... without gaps)"
            )
    return ordered


def _applied(conn: psycopg.Connection, owner: str) -> dict[str, dict]:
    rows = conn.execute(
        "SELECT name, version, checksum, applied_at FROM schema_migrations WHERE owner = %s", (owner,)
    ).fetchall()
    return {r["name"]: r for r in rows}


def applied_migrations(owner: str) -> list[dict]:
    """What has been applied for `owner`, oldest first."""
    try:
        return database.execute_query(
            "SELECT name, version, checksum, applied_at FROM schema_migrations "
            "WHERE owner = %s ORDER BY version NULLS LAST, applied_at",
            (owner,),
        )
    except psycopg.errors.UndefinedTable:
        return []


def _lock_connection() -> psycopg.Connection:
    conn = database.connect(autocommit=True)
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    conn.execute(BOOTSTRAP_SQL)
    return conn


def _run_checks(checks: list[Check], conn: psycopg.Connection, owner: str, sql: str, phase: str,
                what: str) -> None:
    # A check's message names the object; this names the owner and the file.
    try:
        for check in checks:
            check(conn, owner, sql, phase)
    except MigrationError as exc:
        raise MigrationError(f"{owner}: {what} refused: {exc.message}") from None


def _apply_one(conn: psycopg.Connection, owner: str, migration: Migration,
               checks: list[Check]) -> None:
    _run_checks(checks, conn, owner, migration.sql, "before", f"migration {migration.name}")
    try:
        with conn.transaction():
            conn.execute("SET LOCAL search_path TO public")
            conn.execute(migration.sql)
            _run_checks(checks, conn, owner, migration.sql, "after", f"migration {migration.name}")
            conn.execute(
                "INSERT INTO schema_migrations (owner, name, version, checksum) VALUES (%s, %s, %s, %s)",
                (owner, migration.name, migration.version, migration.checksum),
            )
    except MigrationError:
        raise
    except psycopg.Error as exc:
        detail = exc.diag.message_primary or str(exc)
        raise MigrationError(f"{owner}: migration {migration.name} failed: {detail}") from exc
    log.info("%s: applied migration %s", owner, migration.name)


def apply_migrations(owner: str, directory: Path, checks: list[Check] | None = None) -> list[str]:
    """Apply the pending migrations of `owner` from `directory`; return the names applied."""
    migrations = discover(directory, owner)
    done: list[str] = []
    conn = _lock_connection()
    try:
        applied = _applied(conn, owner)
        for migration in migrations:
            previous = applied.get(migration.name)
            if previous is not None:
                if previous["checksum"] != migration.checksum:
                    raise MigrationError(
                        f"{owner}: migration {migration.name} was changed after it was applied "
                        f"on {previous['applied_at']:%Y-%m-%d %H:%M}; add a new migration instead of editing it"
                    )
                continue
            clash = [a for a in applied.values() if a["version"] == migration.version]
            if clash:
                raise MigrationError(
                    f"{owner}: migration {migration.name} has number {migration.version:03d}, "
                    f"already used by the applied migration {clash[0]['name']}"
                )
            _apply_one(conn, owner, migration, checks or [])
            done.append(migration.name)
    finally:
        conn.close()
    return done


def migrate_core() -> list[str]:
    return apply_migrations("core", CORE_DIR)


def pending(owner: str, directory: Path) -> list[str]:
    applied = {m["name"] for m in applied_migrations(owner)}
    return [m.name for m in discover(directory, owner) if m.name not in applied]


def apply_script(owner: str, sql: str, checks: list[Check] | None = None) -> bool:
    """Apply one unnamed script for `owner` (recorded by checksum, so a rerun is a no-op)."""
    migration = Migration(version=0, name=f"script-{checksum_of(sql)[:16]}", path=None, sql=sql)
    conn = _lock_connection()
    try:
        applied = _applied(conn, owner)
        # The same text applied before, as a script or as a numbered file, is not run twice.
        if migration.name in applied or any(a["checksum"] == migration.checksum for a in applied.values()):
            return True
        _run_checks(checks or [], conn, owner, sql, "before", "script")
        try:
            with conn.transaction():
                conn.execute("SET LOCAL search_path TO public")
                conn.execute(sql)
                _run_checks(checks or [], conn, owner, sql, "after", "script")
                conn.execute(
                    "INSERT INTO schema_migrations (owner, name, version, checksum) VALUES (%s, %s, NULL, %s)",
                    (owner, migration.name, migration.checksum),
                )
        except MigrationError:
            raise
        except psycopg.Error as exc:
            raise MigrationError(f"{owner}: script failed: {exc.diag.message_primary or exc}") from exc
    finally:
        conn.close()
    return True


def module_checks_for(module_name: str) -> list[Check]:
    """The checks a module's migrations must pass (table_prefix, catalog diff)."""
    from app.core.modules import migrate

    return migrate.checks_for(module_name)


def apply_module_script(module_name: str, sql: str) -> bool:
    """`execute_module_migration`: the module framework applies it (a script equal to one of the
    module's migration files is recorded under that file's name)."""
    from app.core.modules import migrate

    try:
        return migrate.apply_module_script(module_name, sql)
    except MigrationError as exc:
        logging.getLogger(f"app.modules.{module_name}").error("migration refused: %s", exc.message)
        return False
