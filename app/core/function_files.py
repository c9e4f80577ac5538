"""Repeatable function files: `functions/*.sql`, applied again whenever their text changes.

A numbered migration runs once and is then frozen: right for tables, indexes and
triggers, wrong for a function that keeps evolving (each change would have to be a copy
of the whole function in a new migration). So a function lives in one file under a
`functions/` folder that always says what the function is now: `CREATE OR REPLACE
FUNCTION ...`, one concept per file, edited in place. The migration runner
(`app.core.migrations`) re-applies a file when its checksum differs from the one recorded
in `schema_functions`, under the same advisory lock as the migrations.

This file finds the files and checks what they hold; the runner applies them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import MigrationError
from app.core.sqltext import blank_literals, statements

FUNCTIONS_DIR = "functions"

# Created by the runner next to schema_migrations, before anything of any owner runs: the
# core's own function files are applied before the core's first migration.
BOOTSTRAP_SQL = """
CREATE TABLE IF NOT EXISTS schema_functions (
    owner       TEXT NOT NULL,
    name        TEXT NOT NULL,
    checksum    TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, name)
);
"""
RECORD_SQL = """
INSERT INTO schema_functions (owner, name, checksum) VALUES (%s, %s, %s)
ON CONFLICT (owner, name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()
"""

_CREATE = re.compile(r"^CREATE\s+OR\s+REPLACE\s+(FUNCTION|PROCEDURE)\b", re.I)
# DROP ... IF EXISTS: the way to retire an old signature when arguments or return type change
# (CREATE OR REPLACE cannot change a return type, and new arguments make a second function).
_ALLOWED = re.compile(r"^(CREATE\s+OR\s+REPLACE\s+(FUNCTION|PROCEDURE)|DROP\s+(FUNCTION|PROCEDURE)\s+IF\s+EXISTS"
                      r"|COMMENT\s+ON\s+(FUNCTION|PROCEDURE))\b", re.I)
_PLAIN_CREATE = re.compile(r"^CREATE\s+(FUNCTION|PROCEDURE)\b", re.I)
# A BEGIN ATOMIC body is parsed when the function is created, so it cannot use a table a
# pending migration is about to create (and its `;`s would split the statement here).
_ATOMIC = re.compile(r"\bBEGIN\s+ATOMIC\b", re.I)


@dataclass(frozen=True)
class FunctionFile:
    name: str  # path from the owner's root, e.g. "functions/set_updated_at.sql"
    path: Path
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(root: Path | None, owner: str) -> list[FunctionFile]:
    """Every `functions/*.sql` below `root`, ordered by path; refuses a file holding anything else."""
    if root is None or not root.is_dir():
        return []
    found = []
    for path in root.rglob(f"{FUNCTIONS_DIR}/*.sql"):
        rel = path.relative_to(root)
        if any(part.startswith((".", "__")) for part in rel.parts[:-1]):
            continue
        found.append(FunctionFile(rel.as_posix(), path, path.read_text(encoding="utf-8")))
    found.sort(key=lambda f: f.name)
    for f in found:
        check_text(owner, f)
    return found


def check_text(owner: str, f: FunctionFile) -> None:
    """Refuse a function file that holds something other than functions (read, not run)."""
    if _ATOMIC.search(blank_literals(f.sql)):
        raise MigrationError(f"{owner}: function file {f.name}: write the body as a $$-quoted string, not BEGIN ATOMIC "
                             "(that is parsed at creation, before the migrations have made the tables it uses)")
    found = statements(f.sql)
    for statement in found:
        head = " ".join(statement.split()[:4])
        if _PLAIN_CREATE.match(statement):
            raise MigrationError(f"{owner}: function file {f.name}: write CREATE OR REPLACE ({head} ...): "
                                 "the file is applied again whenever it changes")
        if not _ALLOWED.match(statement):
            raise MigrationError(
                f"{owner}: function file {f.name} holds `{head} ...`: a function file holds only CREATE OR "
                "REPLACE FUNCTION/PROCEDURE (and DROP FUNCTION IF EXISTS for a retired signature); "
                "tables, indexes and triggers go into a numbered migration")
    if not any(_CREATE.match(s) for s in found):
        raise MigrationError(f"{owner}: function file {f.name} holds no CREATE OR REPLACE FUNCTION")
