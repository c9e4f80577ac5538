"""Every sample of the module template README (the Danish original in the notes) works as written.

The curl sample runs against real server processes in test_modules_live.py; the error
handling promises are proven module by module in test_modules_isolation.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tests.modules_fixtures import ROOT, enable_module, set_env, write_module

WEBSHOP = ROOT / "app" / "modules" / "webshop"


@pytest.fixture(scope="module", autouse=True)
def webshop_enabled(db):
    """The samples use the webshop's tables; the webshop ships disabled."""
    enable_module("webshop")

ITEMS_SAMPLE = """
-- Hvis table_prefix = "webshop_"
CREATE TABLE webshop_items (
id SERIAL PRIMARY KEY,
name VARCHAR(255)
);
"""

CUSTOMERS_SAMPLE = """
CREATE TABLE webshop_customers (
id SERIAL PRIMARY KEY,
name VARCHAR(255) NOT NULL,
external_id VARCHAR(100), -- ID fra eksternt system
hub_customer_id INTEGER REFERENCES customers(id), -- VIGTIG!
active BOOLEAN DEFAULT TRUE,
created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
-- Auto-link trigger (se migrations/001_init.sql for komplet eksempel)
CREATE TRIGGER trigger_auto_link_webshop_customer
BEFORE INSERT OR UPDATE OF name
ON webshop_customers
FOR EACH ROW
EXECUTE FUNCTION auto_link_webshop_customer();
"""

ORDERS_SAMPLE = """
CREATE TABLE webshop_orders (
id SERIAL PRIMARY KEY,
customer_id INTEGER REFERENCES customers(id) -- Direkte link
);
"""


def test_create_module_command_as_written(tmp_path):
    env = dict(os.environ, MODULES_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "scripts/create_module.py", "webshop", "My Module Description"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    made = tmp_path / "webshop"
    for rel in ("module.json", "README.md", "backend/__init__.py", "backend/router.py", "frontend/__init__.py",
                "frontend/views.py", "templates/index.html", "migrations/001_init.sql"):
        assert (made / rel).is_file(), rel
    meta = json.loads((made / "module.json").read_text())
    assert (meta["name"], meta["description"], meta["table_prefix"]) == ("webshop", "My Module Description", "webshop_")


def _purge_webshop() -> None:
    from app.cli import cli

    result = CliRunner().invoke(cli, ["modules", "purge", "webshop", "--yes"])
    assert result.exit_code == 0, result.output


def _auto_link_functions() -> str:
    """The trigger functions of the complete example in migrations/001_init.sql."""
    text = (WEBSHOP / "migrations" / "001_init.sql").read_text()
    functions = re.findall(r"CREATE OR REPLACE FUNCTION (?:webshop_match_hub_customer|auto_link_webshop_customer)"
                           r"\(.*?\n\$\$;\n", text, re.S)
    assert len(functions) == 2
    return "\n".join(functions)


def test_table_samples_pass_the_migration_checks_as_written():
    from app.core.database import execute_module_migration, execute_query

    _purge_webshop()
    assert execute_module_migration("webshop", ITEMS_SAMPLE) is True
    assert execute_module_migration("webshop", _auto_link_functions()) is True
    assert execute_module_migration("webshop", CUSTOMERS_SAMPLE) is True
    assert execute_module_migration("webshop", ORDERS_SAMPLE) is True
    cols = execute_query("SELECT column_name FROM information_schema.columns WHERE table_name = 'webshop_customers' "
                         "ORDER BY ordinal_position")
    assert [c["column_name"] for c in cols] == ["id", "name", "external_id", "hub_customer_id", "active", "created_at"]
    hub_id = execute_query("INSERT INTO customers (name) VALUES ('Readme Sample A/S') RETURNING id")[0]["id"]
    row = execute_query("INSERT INTO webshop_customers (name) VALUES ('readme sample a/s') RETURNING hub_customer_id")
    assert row[0]["hub_customer_id"] == hub_id
    # Running the same script again is a no-op that still reports success.
    assert execute_module_migration("webshop", ITEMS_SAMPLE) is True


def test_unprefixed_table_is_refused_by_execute_module_migration():
    from app.core.database import execute_module_migration, execute_query

    assert execute_module_migration("webshop", "CREATE TABLE items_without_prefix (id SERIAL PRIMARY KEY);") is False
    assert execute_query("SELECT to_regclass('items_without_prefix') AS t")[0]["t"] is None


def test_migrations_sample_as_written(monkeypatch):
    from app.core.migrations import applied_migrations

    _purge_webshop()
    monkeypatch.chdir(WEBSHOP)
    # --- the README sample, verbatim ---
    from app.core.database import execute_module_migration

    with open("migrations/001_init.sql") as f:
        migration_sql = f.read()

    success = execute_module_migration("webshop", migration_sql)
    # ---
    assert success is True
    # Recorded as the file itself, so the loader will not run it a second time.
    assert [m["name"] for m in applied_migrations("webshop")] == ["001_init.sql"]
    assert execute_module_migration("webshop", migration_sql) is True


def test_configuration_sample_as_written():
    old = set_env(MODULES__MY_MODULE__API_KEY="secret123", MODULES__MY_MODULE__READ_ONLY="true",
                  MODULES__WEBSHOP__API_KEY="secret123", MODULES__WEBSHOP__READ_ONLY=None)
    try:
        from app.core.config import get_module_config

        api_key = get_module_config("webshop", "API_KEY")
        read_only = get_module_config("webshop", "READ_ONLY", default="true") == "true"
        assert api_key == "secret123" and read_only is True
        assert get_module_config("my_module", "API_KEY") == "secret123"
        assert get_module_config("my_module", "READ_ONLY") == "true"
    finally:
        set_env(**old)


def test_database_queries_sample_as_written():
    from app.core.database import execute_insert, execute_query

    # Fetch
    customers = execute_query(
        "SELECT * FROM webshop_customers WHERE active = %s",
        (True,)
    )

    # Insert
    customer_id = execute_insert(
        "INSERT INTO webshop_customers (name) VALUES (%s)",
        ("Test Customer",)
    )
    assert isinstance(customers, list)
    assert isinstance(customer_id, int)
    row = execute_query("SELECT name FROM webshop_customers WHERE id = %s", (customer_id,))[0]
    assert row["name"] == "Test Customer"


def test_enabled_in_module_json_and_restart(tmp_path):
    from app.main import create_app

    name = write_module(tmp_path, "restart_me", manifest={"enabled": False})
    old = set_env(MODULES_DIR=str(tmp_path))
    try:
        assert create_app().state.modules.records[name].state == "disabled"
        meta = json.loads((tmp_path / name / "module.json").read_text())
        meta["enabled"] = True  # "Eller rediger module.json"
        (tmp_path / name / "module.json").write_text(json.dumps(meta))
        assert create_app().state.modules.records[name].state == "enabled"  # "Restart app"
    finally:
        set_env(**old)


def test_webshop():
    # Test bruger samme database helpers
    from app.core.database import execute_query

    result = execute_query("SELECT 1 as test")
    assert result[0]["test"] == 1


def test_module_structure_matches_the_readme():
    for rel in ("module.json", "README.md", "backend/__init__.py", "backend/router.py", "frontend/__init__.py",
                "frontend/views.py", "templates/index.html", "migrations/001_init.sql"):
        assert (WEBSHOP / rel).is_file(), rel


@pytest.mark.parametrize("bad", ["webshop", "Webshop", "web-shop", "1shop", "class", "admin", "api", ""])
def test_create_module_refuses_bad_names(bad, tmp_path):
    env = dict(os.environ, MODULES_DIR=str(ROOT / "app" / "modules"))
    out = subprocess.run([sys.executable, "scripts/create_module.py", bad, "Something"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert out.stderr.startswith("error: ")
