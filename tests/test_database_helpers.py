"""The database helpers: execute_query / execute_insert / execute_update, transaction(),
and the same helpers from a one-off `python -c` script with the hub's settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from app.core import database
from app.core.database import execute_insert, execute_query, execute_update, transaction


@pytest.fixture(scope="module", autouse=True)
def scratch_tables(db):
    execute_query(
        "CREATE TABLE scratch_customers (id SERIAL PRIMARY KEY, name VARCHAR(255) NOT NULL UNIQUE, "
        "active BOOLEAN DEFAULT TRUE, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)"
    )
    execute_query("CREATE TABLE scratch_tags (tag TEXT PRIMARY KEY, note TEXT)")


def _other_connection_count(name: str) -> int:
    """Count rows from a separate connection: only committed data is visible there."""
    with database.connect() as conn:
        return conn.execute("SELECT count(*) AS n FROM scratch_customers WHERE name = %s", (name,)).fetchone()["n"]


def test_execute_query_returns_a_list_of_dict_rows():
    result = execute_query("SELECT 1 as test")
    assert result == [{"test": 1}]
    assert execute_query("SELECT %s::int AS a, %s::text AS b", (2, "x")) == [{"a": 2, "b": "x"}]
    assert execute_query("SELECT 1 WHERE false") == []


def test_execute_query_returns_an_empty_list_for_statements_without_rows():
    assert execute_query("UPDATE scratch_customers SET active = active WHERE false") == []


def test_readme_sample_insert_without_returning_gives_the_new_id():
    customer_id = execute_insert("INSERT INTO scratch_customers (name) VALUES (%s)", ("Test Customer",))
    assert isinstance(customer_id, int)
    customers = execute_query("SELECT * FROM scratch_customers WHERE active = %s", (True,))
    assert customer_id in [c["id"] for c in customers]


def test_execute_insert_with_returning_id_gives_the_new_id():
    new_id = execute_insert("INSERT INTO scratch_customers (name) VALUES (%s) RETURNING id;", ("Returning A/S",))
    assert execute_query("SELECT name FROM scratch_customers WHERE id = %s", (new_id,))[0]["name"] == "Returning A/S"


def test_execute_insert_with_named_parameters_and_trailing_semicolon():
    new_id = execute_insert("INSERT INTO scratch_customers (name) VALUES (%(name)s);", {"name": "Named ApS"})
    assert execute_query("SELECT id FROM scratch_customers WHERE name = 'Named ApS'")[0]["id"] == new_id


def test_execute_insert_into_a_table_without_id_returns_its_key():
    assert execute_insert("INSERT INTO scratch_tags (tag, note) VALUES (%s, %s)", ("vip", "x")) == "vip"


def test_execute_insert_that_inserts_nothing_returns_none():
    execute_insert("INSERT INTO scratch_customers (name) VALUES (%s)", ("Twice",))
    again = execute_insert("INSERT INTO scratch_customers (name) VALUES (%s) ON CONFLICT DO NOTHING", ("Twice",))
    assert again is None


def test_execute_update_returns_the_affected_row_count():
    for n in range(3):
        execute_insert("INSERT INTO scratch_customers (name) VALUES (%s)", (f"Count {n}",))
    assert execute_update("UPDATE scratch_customers SET active = false WHERE name LIKE %s", ("Count %",)) == 3
    assert execute_update("DELETE FROM scratch_customers WHERE name = %s", ("nobody",)) == 0


def test_transaction_commits_every_call_together():
    with transaction():
        execute_insert("INSERT INTO scratch_customers (name) VALUES (%s)", ("Tx One",))
        execute_insert("INSERT INTO scratch_customers (name) VALUES (%s)", ("Tx Two",))
        # Not visible to other connections before the block ends.
        assert _other_connection_count("Tx One") == 0
    assert _other_connection_count("Tx One") == 1
    assert _other_connection_count("Tx Two") == 1


def test_transaction_rolls_back_every_call_when_the_block_raises():
    with pytest.raises(RuntimeError), transaction():
        execute_insert("INSERT INTO scratch_customers (name) VALUES (%s)", ("Rolled back",))
        execute_update("UPDATE scratch_customers SET active = false")
        raise RuntimeError("boom")
    assert execute_query("SELECT 1 FROM scratch_customers WHERE name = 'Rolled back'") == []
    assert execute_query("SELECT 1 FROM scratch_customers WHERE active") != []


def test_nested_transactions_share_the_outer_one():
    with pytest.raises(psycopg.errors.UniqueViolation), transaction() as outer:
        execute_insert("INSERT INTO scratch_customers (name) VALUES (%s)", ("Nested",))
        with transaction() as inner:
            assert inner is outer
            execute_insert("INSERT INTO scratch_customers (name) VALUES (%s)", ("Nested",))
    assert execute_query("SELECT 1 FROM scratch_customers WHERE name = 'Nested'") == []


def test_a_failed_statement_outside_a_transaction_leaves_the_pool_usable():
    with pytest.raises(psycopg.errors.UndefinedTable):
        execute_query("SELECT * FROM no_such_table")
    assert execute_query("SELECT 2 AS two") == [{"two": 2}]


def test_acting_user_is_visible_to_triggers_inside_the_transaction():
    with database.acting_user(42):
        assert execute_query("SELECT current_setting('bmc.user_id', true) AS u")[0]["u"] == "42"
    # Transaction-local: a later transaction without an acting user sees nothing.
    assert execute_query("SELECT current_setting('bmc.user_id', true) AS u")[0]["u"] in (None, "")


# --- from another process, exactly as the README sample shows ---------------------------

SAMPLE = """
import json
from app.core.database import execute_query, execute_insert
execute_query("CREATE TABLE IF NOT EXISTS webshop_customers (id SERIAL PRIMARY KEY, name VARCHAR(255), "
              "active BOOLEAN DEFAULT TRUE)")
customer_id = execute_insert("INSERT INTO webshop_customers (name) VALUES (%s)", ("Test Customer",))
customers = execute_query("SELECT * FROM webshop_customers WHERE active = %s", (True,))
print(json.dumps({"id": customer_id, "count": len(customers)}))
"""


def _script_env(data_dir: Path, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"DATA_DIR": str(data_dir), "LOG_FILE": str(tmp_path / "script.log")})
    return env


def _run_sample(env: dict[str, str], cwd: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", SAMPLE], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _running(data_dir: Path) -> bool:
    from app.core import embedded

    return embedded._read_postmaster(data_dir.resolve() / "pgdata") is not None


def test_script_with_database_url_uses_that_database(tmp_path, db):
    env = {**os.environ, "DATABASE_URL": db}
    table = f"scratch_script_{uuid.uuid4().hex[:6]}"
    code = ("from app.core.database import execute_query, execute_insert\n"
            f"execute_query('CREATE TABLE {table} (id SERIAL PRIMARY KEY, name TEXT)')\n"
            f"print(execute_insert('INSERT INTO {table} (name) VALUES (%s)', ('x',)))\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    assert execute_query(f"SELECT name FROM {table}") == [{"name": "x"}]  # noqa: S608 - test's own name


def test_script_attaches_to_the_running_embedded_database_and_leaves_it_running(tmp_path, pg_server):
    with psycopg.connect(pg_server) as conn:
        pgdata = Path(conn.execute("SHOW data_directory").fetchone()[0])
    data_dir = pgdata.parent
    if not (data_dir / "pg.lock").exists():
        pytest.skip("the suite runs against an outside DATABASE_URL, not the embedded server")
    first = _run_sample(_script_env(data_dir, tmp_path), tmp_path)
    second = _run_sample(_script_env(data_dir, tmp_path), tmp_path)
    assert second["id"] == first["id"] + 1
    assert second["count"] == first["count"] + 1
    assert _running(data_dir), "a script that attached must not stop the server others use"


def test_script_starts_the_embedded_database_when_none_runs_and_stops_it_after(tmp_path):
    data_dir = tmp_path / "var"
    env = _script_env(data_dir, tmp_path)
    first = _run_sample(env, tmp_path)
    assert not _running(data_dir), "the process that started it alone stops it at exit"
    second = _run_sample(env, tmp_path)
    assert (first["count"], second["count"]) == (1, 2), "data survives the restart"
    assert not _running(data_dir)
