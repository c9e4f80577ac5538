"""`bmc-hub modules purge NAME`: remove a module's database objects and records.

Disabling keeps a module's data; purging drops it: the tables, views, sequences, types
and functions the module's migrations and function files created (recorded in
`module_objects`), anything else carrying its table_prefix, its rows in `schema_migrations`
and `schema_functions`, and its state (kept as "disabled" while the folder exists, so the
next start does not reinstall it).
It works from the database alone, so a module whose folder is already gone can be purged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from app.core import database, function_files
from app.core.errors import Conflict, NotFound
from app.core.modules import manifest as mf

RELATIONS = """
SELECT c.relname AS name, c.relkind::text AS relkind
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND (c.relname IN (SELECT name FROM module_objects WHERE owner = %(owner)s AND kind = 'relation')
        OR (%(prefix)s <> '' AND starts_with(c.relname, %(prefix)s)))
 ORDER BY c.relname
"""
FUNCTIONS = """
SELECT p.oid::regprocedure::text AS signature, p.proname AS name, p.prokind::text AS prokind
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public'
   AND (p.oid::regprocedure::text IN (SELECT name FROM module_objects WHERE owner = %(owner)s AND kind = 'function')
        OR (%(prefix)s <> '' AND starts_with(p.proname, %(prefix)s)))
 ORDER BY 1
"""
TYPES = """
SELECT t.typname AS name
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r', 'm', 'c')
   AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))
   AND (t.typname IN (SELECT name FROM module_objects WHERE owner = %(owner)s AND kind = 'type')
        OR (%(prefix)s <> '' AND starts_with(t.typname, %(prefix)s)))
 ORDER BY 1
"""
ENSURE_OBJECTS_TABLE = """
CREATE TABLE IF NOT EXISTS module_objects (
    owner TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (owner, kind, name))
"""


@dataclass
class Plan:
    name: str
    statements: list[sql.Composable] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)

    def as_text(self, conn: psycopg.Connection) -> list[str]:
        return [s.as_string(conn) + ";" for s in self.statements]


def plan(name: str, wanted_dependents: list[str]) -> Plan:
    """The statements that purge `name` (nothing runs yet)."""
    if wanted_dependents:
        raise Conflict("Module %(name)s cannot be purged: enabled modules depend on it: %(modules)s. "
                       "Disable them first.", name=name, modules=", ".join(wanted_dependents))
    manifest = mf.discover().get(name)
    prefix = manifest.table_prefix if manifest is not None and manifest.valid else ""
    database.execute_script(ENSURE_OBJECTS_TABLE)
    database.execute_script(function_files.BOOTSTRAP_SQL)
    params = {"owner": name, "prefix": prefix}
    relations = database.execute_query(RELATIONS, params)
    functions = database.execute_query(FUNCTIONS, params)
    types = database.execute_query(TYPES, params)
    known = database.execute_query(
        "SELECT (SELECT count(*) FROM schema_migrations WHERE owner = %(owner)s) AS migrations, "
        "(SELECT count(*) FROM module_state WHERE name = %(owner)s) AS states", params)[0]
    if manifest is None and not (relations or functions or types or known["migrations"] or known["states"]):
        raise NotFound("Nothing to purge: no module '%(name)s' and no database objects or records of it", name=name)
    p = Plan(name)
    by_kind: dict[str, list[str]] = {}
    for r in relations:
        by_kind.setdefault(r["relkind"], []).append(r["name"])
    for kinds, keyword in ((("v",), "VIEW"), (("m",), "MATERIALIZED VIEW"), (("f",), "FOREIGN TABLE"),
                           (("r", "p"), "TABLE"), (("S",), "SEQUENCE")):
        names = [n for k in kinds for n in by_kind.get(k, [])]
        if names:
            p.objects.extend(f"{keyword.lower()} {n}" for n in names)
            p.statements.append(sql.SQL("DROP {} IF EXISTS {} CASCADE").format(
                sql.SQL(keyword), sql.SQL(", ").join(sql.Identifier(n) for n in names)))
    for f in functions:
        keyword = "PROCEDURE" if f["prokind"] == "p" else ("AGGREGATE" if f["prokind"] == "a" else "FUNCTION")
        p.objects.append(f"{keyword.lower()} {f['signature']}")
        # regprocedure text is already a quoted, unambiguous signature from the catalog.
        p.statements.append(sql.SQL("DROP {} IF EXISTS {} CASCADE").format(
            sql.SQL(keyword), sql.SQL(f["signature"])))
    if types:
        p.objects.extend(f"type {t['name']}" for t in types)
        p.statements.append(sql.SQL("DROP TYPE IF EXISTS {} CASCADE").format(
            sql.SQL(", ").join(sql.Identifier(t["name"]) for t in types)))
    p.statements.append(sql.SQL("DELETE FROM schema_migrations WHERE owner = {}").format(sql.Literal(name)))
    p.statements.append(sql.SQL("DELETE FROM schema_functions WHERE owner = {}").format(sql.Literal(name)))
    p.statements.append(sql.SQL("DELETE FROM module_objects WHERE owner = {}").format(sql.Literal(name)))
    if manifest is not None:
        p.statements.append(sql.SQL(
            "INSERT INTO module_state (name, enabled) VALUES ({}, false) "
            "ON CONFLICT (name) DO UPDATE SET enabled = false").format(sql.Literal(name)))
    else:
        p.statements.append(sql.SQL("DELETE FROM module_state WHERE name = {}").format(sql.Literal(name)))
    return p


def execute(p: Plan) -> None:
    """Run the plan in one transaction (all or nothing)."""
    with database.transaction() as conn:
        for statement in p.statements:
            conn.execute(statement)
