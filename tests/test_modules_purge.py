"""`bmc-hub modules list|enable|disable|purge`: disabling keeps data, purging removes it."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from tests.modules_fixtures import enable_module, set_env, write_module


@pytest.fixture(scope="module", autouse=True)
def webshop_enabled(db):
    """These tests purge the webshop's tables; it ships disabled, so switch it on first."""
    enable_module("webshop")


def run(*args: str, input: str | None = None):
    from app.cli import cli

    return CliRunner().invoke(cli, list(args), input=input)


def query(sql: str, params=None):
    from app.core.database import execute_query

    return execute_query(sql, params)


def exists(relation: str) -> bool:
    return query("SELECT to_regclass(%s) IS NOT NULL AS e", (relation,))[0]["e"]


def test_list_shows_every_module():
    result = run("modules", "list")
    assert result.exit_code == 0, result.output
    assert "webshop" in result.output and "enabled" in result.output


def test_dry_run_prints_the_sql_and_changes_nothing():
    result = run("modules", "purge", "webshop", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "DROP TABLE IF EXISTS" in result.output and '"webshop_customers"' in result.output
    assert "DROP FUNCTION IF EXISTS auto_link_webshop_customer() CASCADE;" in result.output
    assert "DELETE FROM schema_migrations WHERE owner = 'webshop';" in result.output
    assert "Dry run: nothing was changed." in result.output
    assert exists("webshop_customers")
    assert query("SELECT count(*) AS n FROM schema_migrations WHERE owner = 'webshop'")[0]["n"] == 1


def test_purge_asks_first_and_no_means_no():
    result = run("modules", "purge", "webshop", input="n\n")
    assert result.exit_code == 1
    assert exists("webshop_customers")


def test_purge_drops_objects_records_and_the_trigger_on_core_customers():
    result = run("modules", "purge", "webshop", "--yes")
    assert result.exit_code == 0, result.output
    assert result.output.index("DROP TABLE") < result.output.index("was purged")
    for table in ("webshop_items", "webshop_customers", "webshop_orders"):
        assert not exists(table)
    assert query("SELECT count(*) AS n FROM pg_proc WHERE proname LIKE '%%webshop%%'")[0]["n"] == 0
    assert query("SELECT count(*) AS n FROM pg_trigger WHERE tgname LIKE '%%webshop%%'")[0]["n"] == 0
    assert query("SELECT count(*) AS n FROM schema_migrations WHERE owner = 'webshop'")[0]["n"] == 0
    # The folder is still there: kept disabled so the next start does not reinstall it.
    assert query("SELECT enabled FROM module_state WHERE name = 'webshop'") == [{"enabled": False}]
    # The core's customers work as before.
    assert query("INSERT INTO customers (name) VALUES ('After purge') RETURNING id")


def test_enable_from_the_cli_reinstalls_a_purged_module():
    result = run("modules", "enable", "webshop")
    assert result.exit_code == 0, result.output
    assert "Module webshop is enabled." in result.output
    assert exists("webshop_customers")
    assert query("SELECT enabled FROM module_state WHERE name = 'webshop'") == [{"enabled": True}]


@pytest.fixture
def pair(tmp_path):
    root = tmp_path / "mods"
    root.mkdir()
    base = write_module(root, "pbase", migrations={"001_init.sql": "CREATE TABLE %(prefix)srows (id INT);"})
    child = write_module(root, "pchild", manifest={"dependencies": [base]})
    old = set_env(MODULES_DIR=str(root))
    from app.main import create_app

    create_app()
    yield root, base, child
    set_env(**old)


def test_purge_and_disable_are_refused_while_an_enabled_module_depends_on_it(pair):
    _root, base, child = pair
    result = run("modules", "purge", base, "--yes")
    assert result.exit_code == 2
    assert f"enabled modules depend on it: {child}" in result.output
    assert exists(f"{base}_rows")
    result = run("modules", "disable", base)
    assert result.exit_code == 2 and child in result.output
    assert run("modules", "disable", child).exit_code == 0
    assert run("modules", "purge", base, "--yes").exit_code == 0
    assert not exists(f"{base}_rows")


def test_purge_works_when_the_folder_is_gone(pair):
    root, base, child = pair
    assert run("modules", "disable", child).exit_code == 0
    shutil.rmtree(root / child)
    shutil.rmtree(root / base)
    listing = run("modules", "list")
    assert base in listing.output and "folder of module" in listing.output
    result = run("modules", "purge", base, "--yes")
    assert result.exit_code == 0, result.output
    assert not exists(f"{base}_rows")
    assert query("SELECT count(*) AS n FROM schema_migrations WHERE owner = %s", (base,))[0]["n"] == 0
    assert query("SELECT count(*) AS n FROM module_state WHERE name = %s", (base,))[0]["n"] == 0
    assert run("modules", "purge", base, "--yes").exit_code == 2  # nothing left to purge


def test_unknown_module_is_refused():
    assert run("modules", "enable", "no_such_module_z").exit_code == 2
    assert run("modules", "purge", "no_such_module_z", "--dry-run").exit_code == 2
