"""Database access: one connection pool per process and three small helpers.

    from app.core.database import execute_query, execute_insert
    rows = execute_query("SELECT * FROM webshop_customers WHERE active = %s", (True,))
    new_id = execute_insert("INSERT INTO webshop_customers (name) VALUES (%s)", ("Test Customer",))

Every statement is parameterised (`%s`); names go through `psycopg.sql.Identifier`.
With no DATABASE_URL the helpers attach to (or start) the embedded PostgreSQL of the
data directory, so the same code works in the server, a worker, a test or a script.

`transaction()` makes several helper calls share one transaction. The acting user
(set by the auth layer with `acting_user`) is passed to the database as the
transaction-local setting `bmc.user_id`, so triggers can record who did what.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from app.core.config import get_settings
from app.core.errors import DatabaseUnavailable, HubError

log = logging.getLogger("app.core.database")

Params = Sequence[Any] | dict[str, Any] | None

_pool: ConnectionPool | None = None
_pool_url: str | None = None
_pool_lock = threading.Lock()

_current_conn: contextvars.ContextVar[psycopg.Connection | None] = contextvars.ContextVar(
    "bmc_current_conn", default=None
)
_acting_user: contextvars.ContextVar[int | None] = contextvars.ContextVar("bmc_acting_user", default=None)

# Hooks the module framework installs: called with (sql, params) before a write; may raise
# (READ_ONLY) or return True to skip the statement (DRY_RUN).
write_guards: list[Any] = []

_RETURNING = re.compile(r"\breturning\b", re.IGNORECASE)
_WRITE = re.compile(r"^\s*(with\b.*?\)\s*)?(insert|update|delete|merge|truncate|create|alter|drop)\b",
                    re.IGNORECASE | re.DOTALL)
POOL_TIMEOUT_S = 30.0
# A health check answers "unreachable" after this long instead of hanging the prober.
HEALTH_TIMEOUT_S = 3.0


def database_url() -> str:
    """The URL in use: DATABASE_URL, or the embedded cluster of the data directory."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    from app.core import embedded

    return embedded.ensure_running(settings.data_dir)


def _configure(conn: psycopg.Connection) -> None:
    conn.autocommit = True
    conn.execute("SET TIME ZONE 'UTC'")
    conn.autocommit = False


def get_pool() -> ConnectionPool:
    global _pool, _pool_url
    if _pool is not None:
        return _pool
    with _pool_lock:
        if _pool is None:
            settings = get_settings()
            try:
                url = database_url()
            except HubError:
                raise  # already says what to do (e.g. a data directory of another PostgreSQL version)
            except Exception as exc:  # noqa: BLE001
                raise DatabaseUnavailable(f"database not reachable: {exc}") from exc
            pool = ConnectionPool(
                url,
                min_size=settings.db_pool_min_size,
                max_size=settings.db_pool_max_size,
                kwargs={"row_factory": dict_row},
                configure=_configure,
                timeout=POOL_TIMEOUT_S,
                open=False,
                name="bmc-hub",
            )
            pool.open(wait=False)
            _pool, _pool_url = pool, url
    return _pool


def close_pool() -> None:
    global _pool, _pool_url
    with _pool_lock:
        if _pool is not None:
            _pool.close()
        _pool, _pool_url = None, None


def current_url() -> str:
    get_pool()
    assert _pool_url is not None
    return _pool_url


def connect(autocommit: bool = False, **kwargs: Any) -> psycopg.Connection:
    """A dedicated (non-pooled) connection, for LISTEN, advisory locks and long work."""
    return psycopg.connect(current_url(), autocommit=autocommit, row_factory=dict_row, **kwargs)


@contextlib.contextmanager
def acting_user(user_id: int | None) -> Iterator[None]:
    """Attribute database changes made inside this block to `user_id` (read by triggers)."""
    token = _acting_user.set(user_id)
    try:
        yield
    finally:
        _acting_user.reset(token)


def set_acting_user(user_id: int | None) -> None:
    _acting_user.set(user_id)


_acting_module: contextvars.ContextVar[str | None] = contextvars.ContextVar("bmc_acting_module", default=None)


@contextlib.contextmanager
def acting_module(name: str | None) -> Iterator[None]:
    """Make the helper calls inside this block count as module `name`'s writes.

    The module's READ_ONLY / DRY_RUN switches apply to them. Requests to a module's routes,
    its slots and its background jobs already run this way; use it in other module code
    (a script, a thread the module starts itself).
    """
    token = _acting_module.set(name)
    try:
        yield
    finally:
        _acting_module.reset(token)


def current_module() -> str | None:
    """The module the current code acts for (see `acting_module`), or None for the core."""
    return _acting_module.get()


def _begin(conn: psycopg.Connection) -> None:
    user_id = _acting_user.get()
    if user_id is not None:
        conn.execute("SELECT set_config('bmc.user_id', %s, true)", (str(user_id),))


@contextlib.contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """Run the helper calls inside this block in one transaction (nested blocks share it).

    Commits at the end of the outermost block, rolls back if it raises.
    """
    conn = _current_conn.get()
    if conn is not None:
        yield conn
        return
    with get_pool().connection() as conn:
        token = _current_conn.set(conn)
        try:
            with conn.transaction():
                _begin(conn)
                yield conn
        finally:
            _current_conn.reset(token)


def _guard(sql: str, params: Params) -> bool:
    """Return True when the statement must be skipped (a DRY_RUN module)."""
    if not write_guards or not _WRITE.match(sql):
        return False
    skip = False
    for guard in write_guards:
        if guard(sql, params):
            skip = True
    return skip


def _statement_text(sql: str | psycopg.sql.Composable) -> str:
    # Composed statements (psycopg.sql) are guarded too, or READ_ONLY could be bypassed with them.
    return sql if isinstance(sql, str) else sql.as_string(None)


def _run(sql: str | psycopg.sql.Composable, params: Params, fetch: str) -> Any:
    if write_guards and _guard(_statement_text(sql), params):
        return [] if fetch == "all" else (None if fetch == "id" else 0)
    with transaction() as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        if fetch == "all":
            return cur.fetchall() if cur.description else []
        if fetch == "id":
            row = cur.fetchone() if cur.description else None
            if row is None:
                return None
            return row.get("id", next(iter(row.values()))) if isinstance(row, dict) else row[0]
        return cur.rowcount


def execute_query(sql: str | psycopg.sql.Composable, params: Params = None) -> list[dict[str, Any]]:
    """Run a statement and return its rows as a list of dicts (empty when it returns none)."""
    return _run(sql, params, "all")


def execute_insert(sql: str | psycopg.sql.Composable, params: Params = None) -> Any:
    """Run an INSERT and return the new row's id, with or without `RETURNING id` in the SQL.

    Without a RETURNING clause `RETURNING *` is added (valid for every table), and the
    row's `id` is returned, or its first column when the table has no `id`. None when no
    row was inserted (e.g. `ON CONFLICT DO NOTHING`).
    """
    text = sql if isinstance(sql, str) else sql.as_string(None)
    if not _RETURNING.search(text):
        sql = text.rstrip().rstrip(";") + " RETURNING *"
    return _run(sql, params, "id")


def execute_update(sql: str | psycopg.sql.Composable, params: Params = None) -> int:
    """Run an UPDATE/DELETE and return the number of rows it affected."""
    return _run(sql, params, "count")


def execute_script(sql: str) -> None:
    """Run several statements without parameters (migrations, fixtures)."""
    if _guard(sql, None):
        return
    with transaction() as conn:
        conn.execute(sql)


def check_database() -> tuple[bool, str]:
    """(reachable, detail) for the health endpoint."""
    try:
        with get_pool().connection(timeout=HEALTH_TIMEOUT_S) as conn:
            conn.execute("SELECT 1")
        return True, "ok"
    except Exception as exc:  # noqa: BLE001 - health reports any failure
        return False, type(exc).__name__


def execute_module_migration(module_name: str, migration_sql: str) -> bool:
    """Apply one migration script for a module through the same checks as the migration runner.

    Returns True when it was applied (or already had been), False when it was refused or
    failed; the reason is logged with the module's name.
    """
    from app.core.migrations import apply_module_script

    return apply_module_script(module_name, migration_sql)
