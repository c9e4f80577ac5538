#!/usr/bin/env python3
"""Rewrite tests/schema.sql, the schema snapshot, from the migrations and function files.

    make schema                  # or: python scripts/dump_schema.py

Run it after adding a migration or changing a function file, and commit the new snapshot
with the change: tests/test_schema_snapshot.py fails with a diff while they disagree.
Uses the server of DATABASE_URL when set (a throw-away database on it), else a throw-away
embedded PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

# Runnable from a checkout without installing: make `app` and `tests` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import schema_snapshot  # noqa: E402


def main() -> int:
    url = os.environ.get("DATABASE_URL")
    if url:
        text = schema_snapshot.build(url)
    else:
        from app.core import embedded

        tmp = Path(tempfile.mkdtemp(prefix="bmc-schema-"))
        try:
            text = schema_snapshot.build(embedded.ensure_running(tmp, fast=True))
        finally:
            embedded.release((tmp / "pgdata").resolve())
            shutil.rmtree(tmp, ignore_errors=True)
    schema_snapshot.SNAPSHOT.write_text(text)
    print(f"wrote {schema_snapshot.SNAPSHOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
