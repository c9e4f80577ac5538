"""SQL migration runner for the core and for modules.

Two kinds of file per owner (`core`, or a module's name):
- numbered migrations `NNN_name.sql` (001, 002, ...) in one folder: each applied once, in
  order, in its own transaction, recorded in `schema_migrations` with its checksum. A gap
  or a duplicate number, a badly named file, or an applied file whose text has changed is
  refused with a message naming the file (unless the new text lists the old checksum as
  superseded, see SUPERSEDES);
- function files `functions/*.sql` (`app.core.function_files`): applied again whenever
  their checksum differs from the one recorded in `schema_functions`.

Order for one owner, because triggers need their functions and functions use tables:
1. when migrations are pending, the changed function files are created first with
   check_function_bodies off, so a trigger created by a pending migration finds its
   function while the body may use tables that migration creates (a function whose
   signature names such a table's type waits for step 3);
2. the pending migrations;
3. every changed function file again with its body checked, recorded in the same
   transaction (all of them or none).

A session-level advisory lock makes concurrent runners (two replicas starting at once)
take turns: the second finds the work done. The runner uses its own connections, not
`app.core.database`'s pool: that file offers `execute_module_migration`, which ends here.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from app.core import function_files
from app.core.config import database_url
from app.core.errors import MigrationError
from app.core.function_files import FunctionFile

log = logging.getLogger("app.core.migrations")

CORE_DIR = Path(__file__).parent / "sql"
# Any fixed number works; it only has to be the same in every process.
MIGRATION_LOCK_KEY = 7_311_640_221
FILE_PATTERN = re.compile(r"^(\d{3,})_([A-Za-z0-9_\-]+)\.sql$")
# A migration rewritten after it was applied somewhere (functions moved out into function
# files) lists the checksums of its earlier texts on lines `-- supersedes: <sha256>`; a
# database that recorded one of them takes the new text as applied (its record is updated).
SUPERSEDES = re.compile(r"^--\s*supersedes:\s*([0-9a-f]{64})\s*$", re.MULTILINE)

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

    def accepts(self, recorded: str) -> bool:
        """True when a database that recorded checksum `recorded` for this file is up to date with it."""
        return recorded == self.checksum or recorded in SUPERSEDES.findall(self.sql)


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


def connect() -> psycopg.Connection:
    """A connection of the runner's own (autocommit), to the database the pool uses."""
    return psycopg.connect(database_url(), autocommit=True, row_factory=dict_row)


def read(sql: str, params: Any = None) -> list[dict]:
    """Rows of a query on the bookkeeping tables; none before the runner first ran."""
    try:
        with connect() as conn:
            return conn.execute(sql, params).fetchall()
    except psycopg.errors.UndefinedTable:
        return []


def applied_migrations(owner: str) -> list[dict]:
    """What has been applied for `owner`, oldest first."""
    return read("SELECT name, version, checksum, applied_at FROM schema_migrations "
                "WHERE owner = %s ORDER BY version NULLS LAST, applied_at", (owner,))


def applied_functions(owner: str) -> dict[str, str]:
    """{function file name: checksum applied} for `owner`."""
    rows = read("SELECT name, checksum FROM schema_functions WHERE owner = %s", (owner,))
    return {r["name"]: r["checksum"] for r in rows}


def _lock_connection() -> psycopg.Connection:
    conn = connect()
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    conn.execute(BOOTSTRAP_SQL)
    conn.execute(function_files.BOOTSTRAP_SQL)
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


def apply_migrations(owner: str, directory: Path, checks: list[Check] | None = None,
                     functions_root: Path | None = None, through: str | None = None) -> list[str]:
    """Apply the pending migrations of `owner` from `directory` and the changed function files
    found under `functions_root` (see the order above); return the migration names applied.

    `through`: stop after the migration file with this checksum (`execute_module_migration`);
    when that is not the last file, the function files are only created (step 1), not checked
    or recorded: their bodies may use tables of the later files.
    """
    files = discover(directory, owner)
    functions = function_files.discover(functions_root, owner)
    checks = checks or []
    partial = through is not None and bool(files) and files[-1].checksum != through
    done: list[str] = []
    conn = _lock_connection()
    try:
        todo = _pending(conn, owner, files, through)
        changed = _changed_functions(conn, owner, functions)
        if todo and changed:
            _create_functions(conn, owner, changed, checks, final=False)
        for migration in todo:
            _apply_one(conn, owner, migration, checks)
            done.append(migration.name)
        if changed and not partial:
            _create_functions(conn, owner, changed, checks, final=True)
    finally:
        conn.close()
    return done


def _pending(conn: psycopg.Connection, owner: str, files: list[Migration], through: str | None) -> list[Migration]:
    applied = _applied(conn, owner)
    todo = []
    for migration in files:
        previous = applied.get(migration.name)
        if previous is None:
            clash = [a for a in applied.values() if a["version"] == migration.version]
            if clash:
                raise MigrationError(
                    f"{owner}: migration {migration.name} has number {migration.version:03d}, "
                    f"already used by the applied migration {clash[0]['name']}"
                )
            todo.append(migration)
        elif previous["checksum"] != migration.checksum:
            if not migration.accepts(previous["checksum"]):
                raise MigrationError(
                    f"{owner}: migration {migration.name} was changed after it was applied "
                    f"on {previous['applied_at']:%Y-%m-%d %H:%M}; add a new migration instead of editing it"
                )
            conn.execute("UPDATE schema_migrations SET checksum = %s WHERE owner = %s AND name = %s",
                         (migration.checksum, owner, migration.name))
            log.info("%s: migration %s was rewritten; the applied text is listed as superseded", owner,
                     migration.name)
        if through is not None and migration.checksum == through:
            break
    return todo


def _changed_functions(conn: psycopg.Connection, owner: str, functions: list[FunctionFile]) -> list[FunctionFile]:
    recorded = {r["name"]: r["checksum"] for r in conn.execute(
        "SELECT name, checksum FROM schema_functions WHERE owner = %s", (owner,)).fetchall()}
    gone = sorted(set(recorded) - {f.name for f in functions})
    if gone:
        # Forgotten, so that the file, should it come back, is applied again. The function itself
        # stays: dropping one is a migration's job (a trigger may still use it).
        conn.execute("DELETE FROM schema_functions WHERE owner = %s AND name = ANY(%s)", (owner, gone))
    return [f for f in functions if recorded.get(f.name) != f.checksum]


def _create_functions(conn: psycopg.Connection, owner: str, files: list[FunctionFile], checks: list[Check],
                      final: bool) -> None:
    """Create the functions of `files` in one transaction with bodies unchecked; when `final`,
    then run each file again with its body checked and record it."""
    with conn.transaction():
        conn.execute("SET LOCAL search_path TO public")
        conn.execute("SET LOCAL check_function_bodies = off")
        for f in files:
            _run_checks(checks, conn, owner, f.sql, "before", f"function file {f.name}")
            try:
                with conn.transaction():
                    conn.execute(f.sql)
            except (psycopg.errors.UndefinedObject, psycopg.errors.UndefinedTable) as exc:
                if final:
                    raise _failed(owner, f, exc) from exc
                continue  # its signature names a type a pending migration creates: made in the final pass
            except psycopg.Error as exc:
                raise _failed(owner, f, exc) from exc
            _run_checks(checks, conn, owner, f.sql, "after", f"function file {f.name}")
        if not final:
            return
        # Every function of the owner exists now, so each body can be checked against the others.
        conn.execute("SET LOCAL check_function_bodies = on")
        for f in files:
            try:
                with conn.transaction():
                    conn.execute(f.sql)
            except psycopg.Error as exc:
                raise _failed(owner, f, exc) from exc
            conn.execute(function_files.RECORD_SQL, (owner, f.name, f.checksum))
    for f in files:
        log.info("%s: applied function file %s", owner, f.name)


def _failed(owner: str, f: FunctionFile, exc: psycopg.Error) -> MigrationError:
    detail = exc.diag.message_primary or str(exc)
    where = (exc.diag.context or "").strip().splitlines()
    return MigrationError(f"{owner}: function file {f.name} failed: {detail}" + (f" ({where[0]})" if where else ""))


def migrate_core() -> list[str]:
    return apply_migrations("core", CORE_DIR, functions_root=CORE_DIR)


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
