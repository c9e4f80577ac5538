"""Database access: one connection pool per process and three small helpers.

    from app.core.database import execute_query, execute_insert
    rows = execute_query("SELECT * FROM webshop_customers WHERE active = %s", (True,))
    new_id = execute_insert("INSERT INTO webshop_customers (name) VALUES (%s)", ("Test Customer",))

Every statement is parameterised (`%s`); names go through `psycopg.sql.Identifier`.
With no DATABASE_URL the helpers attach to (or start) the embedded PostgreSQL of the
data directory, so the same code works in the server, a worker, a test or a script.

`transaction()` makes several helper calls share one transaction. The acting user
(set by the auth layer with `acting_user`) is passed to the database as the
transaction-local setting `bmc.user_id`, so triggers can record who did what. The acting
module (`acting_module`) decides the kind of transaction: a module's READ_ONLY switch makes
it READ ONLY in PostgreSQL, its DRY_RUN switch rolls it back at the end.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from app.core.config import database_url, get_module_config, get_settings
from app.core.errors import DatabaseUnavailable, HubError, ReadOnlyViolation
from app.core.queries import load_queries

log = logging.getLogger("app.core.database")
Q = load_queries(Path(__file__).parent / "queries" / "database.sql")

Params = Sequence[Any] | dict[str, Any] | None

_pool: ConnectionPool | None = None
_pool_url: str | None = None
_pool_lock = threading.Lock()

_acting_user: contextvars.ContextVar[int | None] = contextvars.ContextVar("bmc_acting_user", default=None)

_RETURNING = re.compile(r"\breturning\b", re.IGNORECASE)
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
# How much of a statement and of its parameters the DRY_RUN log line shows (characters).
SQL_PREVIEW_CHARS = 300
PARAMS_PREVIEW_CHARS = 200
POOL_TIMEOUT_S = 30.0
# A health check answers "unreachable" after this long instead of hanging the prober.
HEALTH_TIMEOUT_S = 3.0


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
    """A dedicated (non-pooled) connection, for LISTEN, advisory locks and long work.

    Opened for a module running with READ_ONLY or DRY_RUN, every transaction on it is read-only
    (autocommit statements too): the hub cannot roll back what the module commits itself, so
    under DRY_RUN writes there are refused rather than made.
    """
    acting = _acting.get()
    if acting is not None and (acting.read_only or acting.dry_run):
        options = kwargs.pop("options", "")
        kwargs["options"] = f"{options} -c default_transaction_read_only=on".strip()
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


@dataclass(frozen=True)
class Acting:
    """The module the current code acts for and the safety switches that hold for it."""

    module: str
    read_only: bool = False
    dry_run: bool = False


_acting: contextvars.ContextVar[Acting | None] = contextvars.ContextVar("bmc_acting_module", default=None)


def env_name(module: str, key: str) -> str:
    """The environment variable of a module setting: `MODULES__<MODULE>__<KEY>`."""
    return f"MODULES__{module.upper().replace('-', '_')}__{key.upper()}"


def _env_switch(module: str, key: str) -> bool:
    return str(get_module_config(module, key, default="")).strip().lower() in TRUE_WORDS


@contextlib.contextmanager
def acting_module(name: str | None, *, read_only: bool | None = None,
                  dry_run: bool | None = None) -> Iterator[None]:
    """Make the database work inside this block count as module `name`'s (None: the core's).

    The module's safety switches hold for every transaction the helpers open inside the block:
    READ_ONLY makes it a READ ONLY transaction (PostgreSQL refuses any write; the helpers raise
    `ReadOnlyViolation`, HTTP 403), DRY_RUN rolls it back at the end instead of committing and
    logs what it would have written. A switch left as None is read from the environment
    (`MODULES__<NAME>__READ_ONLY`); the module framework passes both, with module.json's defaults.
    Requests to a module's routes, its slots and its background jobs already run this way; use
    it in other module code (a script, a thread the module starts itself).
    """
    acting = None
    if name is not None:
        acting = Acting(name,
                        _env_switch(name, "READ_ONLY") if read_only is None else read_only,
                        _env_switch(name, "DRY_RUN") if dry_run is None else dry_run)
    token = _acting.set(acting)
    try:
        yield
    finally:
        _acting.reset(token)


def current_module() -> str | None:
    """The module the current code acts for (see `acting_module`), or None for the core."""
    acting = _acting.get()
    return acting.module if acting is not None else None


def current_acting() -> Acting | None:
    """The module the current code acts for with its switches, or None for the core."""
    return _acting.get()


def is_dry_run() -> bool:
    """True when the current code acts for a module running with DRY_RUN (its writes are rolled back)."""
    acting = _acting.get()
    return acting is not None and acting.dry_run and not acting.read_only


def refusal(exc: BaseException) -> ReadOnlyViolation | None:
    """The 403 for a write PostgreSQL refused under a module's switch, or None if `exc` is not one."""
    acting = _acting.get()
    if not isinstance(exc, psycopg.errors.ReadOnlySqlTransaction) or acting is None:
        return None
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "write refused"
    if acting.read_only:
        return ReadOnlyViolation(f"Module {acting.module} is read-only "
                                 f"({env_name(acting.module, 'READ_ONLY')}=true): the write was refused ({reason})")
    if acting.dry_run:
        return ReadOnlyViolation(f"Module {acting.module} runs with DRY_RUN ({env_name(acting.module, 'DRY_RUN')}"
                                 f"=true): a write on its own connection was refused ({reason}); "
                                 "the helpers' transactions are rolled back instead")
    return None


@contextlib.contextmanager
def _refusals_translated() -> Iterator[None]:
    try:
        yield
    except psycopg.errors.ReadOnlySqlTransaction as exc:
        translated = refusal(exc)
        if translated is None:
            raise
        raise translated from exc


@dataclass
class _Transaction:
    conn: psycopg.Connection
    read_only: bool
    dry_run: bool
    # (module, statement preview) of every helper statement, kept for the DRY_RUN log line.
    statements: list[tuple[str, str]] = field(default_factory=list)


_current_tx: contextvars.ContextVar[_Transaction | None] = contextvars.ContextVar("bmc_current_tx", default=None)


def _begin(conn: psycopg.Connection, read_only: bool, dry_run: bool) -> None:
    user_id = _acting_user.get()
    if read_only or dry_run:
        # One round trip (no parameters: a multi-statement string); user_id is an int.
        query = Q["begin_read_only" if read_only else "begin_dry_run"]
        conn.execute(psycopg.sql.SQL(query).format(
            user_id=psycopg.sql.Literal("" if user_id is None else str(int(user_id)))))
    elif user_id is not None:
        conn.execute("SELECT set_config('bmc.user_id', %s, true)", (str(user_id),))


@contextlib.contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """Run the helper calls inside this block in one transaction (nested blocks share it).

    Commits at the end of the outermost block, rolls back if it raises. The acting module's
    switches (see `acting_module`) decide the kind of transaction: READ ONLY (PostgreSQL
    refuses every write), or rolled back at the end with a log line (DRY_RUN); neither has
    anything to commit. A nested block acting under other switches than the enclosing one (a
    read-only module's code inside a core transaction) gets a transaction of its own, so a
    switch never loosens or tightens someone else's transaction.
    """
    acting = _acting.get()
    read_only = acting is not None and acting.read_only
    dry_run = acting is not None and acting.dry_run and not read_only
    tx = _current_tx.get()
    # Only a module's code can meet a refusal to translate (the core never runs read-only).
    translated = _refusals_translated if acting is not None else contextlib.nullcontext
    if tx is not None and (tx.read_only, tx.dry_run) == (read_only, dry_run):
        with translated():
            yield tx.conn
        return
    guarded = read_only or dry_run
    with get_pool().connection() as conn:
        tx = _Transaction(conn, read_only, dry_run)
        token = _current_tx.set(tx)
        try:
            with translated(), conn.transaction(force_rollback=guarded):
                _begin(conn, read_only, dry_run)
                yield conn
                if guarded:
                    _end_guarded(conn, tx, acting)
        finally:
            _current_tx.reset(token)
            # Module SQL that committed left the session read-only by default (PostgreSQL reports
            # the setting): the pool replaces a closed connection.
            if guarded and conn.info.parameter_status("default_transaction_read_only") != b"off":
                conn.close()


def _end_guarded(conn: psycopg.Connection, tx: _Transaction, acting: Acting | None) -> None:
    """Check the guarded transaction is still the helpers' and log what a DRY_RUN one wrote."""
    row = conn.execute(Q["end_guarded"]).fetchone()
    module = acting.module if acting is not None else "?"
    if not row["ours"]:
        raise ReadOnlyViolation(f"Module {module} ended the hub's transaction itself (COMMIT or ROLLBACK in "
                                "its SQL), refused under READ_ONLY and DRY_RUN: leave transaction control "
                                "to the helpers")
    if tx.dry_run and row["wrote"]:
        by_module: dict[str, list[str]] = {}
        for name, statement in tx.statements:
            by_module.setdefault(name, []).append(statement)
        for name, statements in (by_module or {module: ["(statements run on the connection directly)"]}).items():
            logging.getLogger(f"app.modules.{name}").info(
                "DRY_RUN: would run: %s; rolled back, nothing was written", " | ".join(statements))


def _preview(sql: str | psycopg.sql.Composable, params: Params) -> str:
    text = " ".join(_statement_text(sql).split())[:SQL_PREVIEW_CHARS]
    return f"{text} with parameters {repr(params)[:PARAMS_PREVIEW_CHARS]}" if params else text


def _statement_text(sql: str | psycopg.sql.Composable) -> str:
    return sql if isinstance(sql, str) else sql.as_string(None)


def _run(sql: str | psycopg.sql.Composable, params: Params, fetch: str) -> Any:
    with transaction() as conn, conn.cursor() as cur:
        tx = _current_tx.get()
        if tx is not None and tx.dry_run:
            acting = _acting.get()
            tx.statements.append((acting.module if acting else "core", _preview(sql, params)))
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
    _run(sql, None, "none")


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
    # The module-template README promises this name here, but the work belongs to the module
    # framework, one layer up. That layer (app.core.modules.migrate, app.core.migrations)
    # never imports this file: it connects through app.core.config.database_url. So the
    # import below is one-way, not a cycle; it is made on call only so that importing the
    # lowest layer does not load the module framework.
    from app.core.modules.migrate import execute_module_migration as run

    return run(module_name, migration_sql)
