"""Migration checks for modules: naming rules, read from the SQL and from the catalog.

A module owns the tables, views, sequences and types whose names start with its
`table_prefix`, and the functions whose names carry its name as a word
(`auto_link_webshop_customer` belongs to `webshop`). Trigger and index names are free:
they belong to a table.

1. Before anything runs, the SQL text is read (comments and string bodies blanked) and
   every CREATE of a table, view, sequence, type or function with a foreign name is
   refused, naming the object.
2. Inside the migration's transaction, the catalog is compared with a snapshot taken
   just before: objects created any other way (a DO block, EXECUTE of dynamic SQL), core
   objects dropped, renamed or replaced, columns added to tables the module does not
   own, and foreign keys from such tables into module tables are refused, and the
   transaction rolls back.

The objects a migration created are recorded in `module_objects`, so `bmc-hub modules
purge` knows exactly what to drop, even when the module's folder is gone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import psycopg

from app.core.errors import MigrationError
from app.core.sqltext import blank_literals

BOOTSTRAP_SQL = """
CREATE TABLE IF NOT EXISTS module_objects (
    owner       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, kind, name)
);
"""

_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_QNAME = rf"({_IDENT}(?:\s*\.\s*{_IDENT})?)"
_IFNE = r"(?:IF\s+NOT\s+EXISTS\s+)?"
_CREATE_PATTERNS = [
    ("table", re.compile(rf"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?"
                         rf"(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+{_IFNE}{_QNAME}", re.I)),
    ("foreign table", re.compile(rf"\bCREATE\s+FOREIGN\s+TABLE\s+{_IFNE}{_QNAME}", re.I)),
    ("materialized view", re.compile(rf"\bCREATE\s+MATERIALIZED\s+VIEW\s+{_IFNE}{_QNAME}", re.I)),
    ("view", re.compile(rf"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:TEMP|TEMPORARY)\s+)?(?:RECURSIVE\s+)?"
                        rf"VIEW\s+{_IFNE}{_QNAME}", re.I)),
    ("sequence", re.compile(rf"\bCREATE\s+(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?SEQUENCE\s+{_IFNE}{_QNAME}", re.I)),
    ("type", re.compile(rf"\bCREATE\s+(?:TYPE|DOMAIN)\s+{_QNAME}", re.I)),
    ("function", re.compile(rf"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE|AGGREGATE)\s+{_QNAME}", re.I)),
]
_RENAME = re.compile(rf"\bALTER\s+(TABLE|VIEW|MATERIALIZED\s+VIEW|SEQUENCE|TYPE|FUNCTION)\s+(?:IF\s+EXISTS\s+)?"
                     rf"(?:ONLY\s+)?{_QNAME}[^;]*?\bRENAME\s+TO\s+({_IDENT})", re.I)
_SCHEMA = re.compile(r"\bCREATE\s+SCHEMA\b", re.I)

SNAPSHOT_RELATIONS = """
SELECT c.oid::bigint AS oid, c.relname AS name, c.relkind::text AS relkind, n.nspname AS schema,
       (SELECT string_agg(a.attname || ':' || a.atttypid::text, ',' ORDER BY a.attnum)
          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                   AND d.objid = c.oid AND d.deptype = 'e')
"""
SNAPSHOT_FUNCTIONS = """
SELECT p.oid::bigint AS oid, p.proname AS name, p.oid::regprocedure::text AS signature,
       md5(coalesce(p.prosrc, '') || coalesce(p.probin, '') || p.prorettype::text) AS body
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                   AND d.objid = p.oid AND d.deptype = 'e')
"""
SNAPSHOT_TYPES = """
SELECT t.oid::bigint AS oid, t.typname AS name
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
   AND (t.typtype IN ('e', 'd', 'r', 'm')
        OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')))
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                   AND d.objid = t.oid AND d.deptype = 'e')
"""
SNAPSHOT_FOREIGN_KEYS = """
SELECT con.oid::bigint AS oid, con.conname AS name, src.relname AS source, dst.relname AS target
  FROM pg_constraint con
  JOIN pg_class src ON src.oid = con.conrelid
  JOIN pg_class dst ON dst.oid = con.confrelid
 WHERE con.contype = 'f'
"""
SCHEMAS = "SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') " \
          "AND nspname !~ '^pg_(toast|temp)'"
RELKIND_NAMES = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "S": "sequence",
                 "f": "foreign table"}


def _unquote(name: str) -> tuple[str | None, str]:
    parts = [p.strip() for p in re.findall(r'"(?:[^"]|"")+"|[^.\s]+', name)]
    clean = [p[1:-1].replace('""', '"') if p.startswith('"') else p.lower() for p in parts]
    return (clean[0], clean[1]) if len(clean) == 2 else (None, clean[0])


def owns_relation(prefix: str, name: str) -> bool:
    return name.startswith(prefix)


def owns_function(module: str, name: str) -> bool:
    """The module's name appears in the function's name as a whole word between underscores."""
    return re.search(rf"(^|_){re.escape(module)}(_|$)", name) is not None


def owns_type(module: str, prefix: str, name: str) -> bool:
    return name.startswith(prefix) or owns_function(module, name)


def scan_sql(module: str, prefix: str, sql: str) -> list[str]:
    """Problems visible in the SQL text itself, one message per object."""
    text = blank_literals(sql)
    problems = []
    if _SCHEMA.search(text):
        problems.append("CREATE SCHEMA is not allowed: module objects live in the public schema")
    for kind, pattern in _CREATE_PATTERNS:
        for match in pattern.finditer(text):
            schema, name = _unquote(match.group(1))
            problems.extend(_name_problems(module, prefix, kind, schema, name))
    for match in _RENAME.finditer(text):
        kind = re.sub(r"\s+", " ", match.group(1)).lower()
        _, new = _unquote(match.group(3))
        problems.extend(_name_problems(module, prefix, kind, None, new))
    return list(dict.fromkeys(problems))


def _name_problems(module: str, prefix: str, kind: str, schema: str | None, name: str) -> list[str]:
    if schema not in (None, "public"):
        return [f"{kind} {schema}.{name}: module objects must be created in the public schema"]
    if kind == "function" and not owns_function(module, name):
        return [f"function {name}() must carry the module name \"{module}\" in its name "
                f"(e.g. {name}_{module} or {module}_{name})"]
    if kind == "type" and not owns_type(module, prefix, name):
        return [f"type {name} does not start with the module's table_prefix \"{prefix}\""]
    if kind not in ("function", "type") and not owns_relation(prefix, name):
        return [f"{kind} {name} does not start with the module's table_prefix \"{prefix}\""]
    return []


@dataclass
class Snapshot:
    relations: dict[int, dict] = field(default_factory=dict)
    functions: dict[int, dict] = field(default_factory=dict)
    types: dict[int, dict] = field(default_factory=dict)
    foreign_keys: dict[int, dict] = field(default_factory=dict)
    schemas: set[str] = field(default_factory=set)


def take_snapshot(conn: psycopg.Connection) -> Snapshot:
    def rows(query: str) -> dict[int, dict]:
        return {r["oid"]: r for r in conn.execute(query).fetchall()}

    return Snapshot(rows(SNAPSHOT_RELATIONS), rows(SNAPSHOT_FUNCTIONS), rows(SNAPSHOT_TYPES),
                    rows(SNAPSHOT_FOREIGN_KEYS), {r["nspname"] for r in conn.execute(SCHEMAS).fetchall()})


def compare(module: str, prefix: str, before: Snapshot, after: Snapshot) -> tuple[list[str], list[tuple[str, str]]]:
    """(problems, created objects as (kind, name)) between two snapshots."""
    problems: list[str] = []
    created: list[tuple[str, str]] = []
    for schema in sorted(after.schemas - before.schemas):
        problems.append(f"schema {schema} was created: module objects live in the public schema")
    for oid, rel in after.relations.items():
        kind = RELKIND_NAMES[rel["relkind"]]
        old = before.relations.get(oid)
        if old is None:
            if rel["schema"] != "public":
                problems.append(f"{kind} {rel['schema']}.{rel['name']} is outside the public schema")
            elif not owns_relation(prefix, rel["name"]):
                problems.append(f"{kind} {rel['name']} does not start with the module's table_prefix \"{prefix}\"")
            else:
                created.append(("relation", rel["name"]))
        elif not owns_relation(prefix, old["name"]):
            if old["name"] != rel["name"]:
                problems.append(f"{kind} {old['name']} does not belong to module {module} and may not be renamed")
            elif old["columns"] != rel["columns"] and rel["relkind"] in ("r", "p"):
                problems.append(f"table {rel['name']} does not belong to module {module}: "
                                "its columns may not be changed")
        elif not owns_relation(prefix, rel["name"]):
            problems.append(f"{kind} {old['name']} was renamed to {rel['name']}, which does not start "
                            f"with the module's table_prefix \"{prefix}\"")
    for oid, rel in before.relations.items():
        if oid not in after.relations and not owns_relation(prefix, rel["name"]):
            problems.append(f"{RELKIND_NAMES[rel['relkind']]} {rel['name']} does not belong to module "
                            f"{module} and may not be dropped")
    for oid, fn in after.functions.items():
        old = before.functions.get(oid)
        if old is None:
            if not owns_function(module, fn["name"]):
                problems.append(f"function {fn['signature']} must carry the module name \"{module}\" in its name")
            else:
                created.append(("function", fn["signature"]))
        elif not owns_function(module, old["name"]) and (old["body"] != fn["body"] or old["name"] != fn["name"]):
            problems.append(f"function {old['signature']} does not belong to module {module} and may not be "
                            "replaced or renamed")
    for oid, fn in before.functions.items():
        if oid not in after.functions and not owns_function(module, fn["name"]):
            problems.append(f"function {fn['signature']} does not belong to module {module} and may not be dropped")
    for oid, typ in after.types.items():
        if oid not in before.types:
            if not owns_type(module, prefix, typ["name"]):
                problems.append(f"type {typ['name']} does not start with the module's table_prefix \"{prefix}\"")
            else:
                created.append(("type", typ["name"]))
    for oid, typ in before.types.items():
        if oid not in after.types and not owns_type(module, prefix, typ["name"]):
            problems.append(f"type {typ['name']} does not belong to module {module} and may not be dropped")
    for oid, fk in after.foreign_keys.items():
        if oid in before.foreign_keys or owns_relation(prefix, fk["source"]):
            continue
        if owns_relation(prefix, fk["target"]):
            problems.append(f"core table {fk['source']} may not get a foreign key ({fk['name']}) into module "
                            f"table {fk['target']}: the core must work without the module")
        else:
            problems.append(f"table {fk['source']} does not belong to module {module}: "
                            f"foreign key {fk['name']} may not be added to it")
    return list(dict.fromkeys(problems)), created


class ModuleChecks:
    """The check hook for one module (see `app.core.migrations.Check`)."""

    def __init__(self, module: str, prefix: str) -> None:
        self.module = module
        self.prefix = prefix
        self._before: Snapshot | None = None

    def __call__(self, conn: psycopg.Connection, owner: str, sql: str, phase: str) -> None:
        if phase == "before":
            problems = scan_sql(self.module, self.prefix, sql)
            if problems:
                raise MigrationError("; ".join(problems))
            conn.execute(BOOTSTRAP_SQL)
            self._before = take_snapshot(conn)
            return
        if self._before is None:
            raise MigrationError("internal: catalog snapshot missing")
        problems, created = compare(self.module, self.prefix, self._before, take_snapshot(conn))
        self._before = None
        if problems:
            raise MigrationError("; ".join(problems))
        for kind, name in created:
            conn.execute("INSERT INTO module_objects (owner, kind, name) VALUES (%s, %s, %s) "
                         "ON CONFLICT DO NOTHING", (self.module, kind, name))
