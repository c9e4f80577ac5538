"""Module migrations: table_prefix and naming rules from the SQL text and from the catalog.

Each case goes through `execute_module_migration`, the same path as the loader's numbered
files; a refused script leaves nothing behind.
"""

from __future__ import annotations

import pytest

from tests.modules_fixtures import set_env, write_module


@pytest.fixture(scope="module")
def shop(tmp_path_factory, db):
    """A module `shopx_<hex>` with prefix `<name>_` in a temporary modules directory."""
    root = tmp_path_factory.mktemp("modules")
    name = write_module(root, "shopx")
    old = set_env(MODULES_DIR=str(root))
    yield name
    set_env(**old)


def apply(name: str, sql: str) -> bool:
    from app.core.database import execute_module_migration

    return execute_module_migration(name, sql)


def exists(relation: str) -> bool:
    from app.core.database import execute_query

    return execute_query("SELECT to_regclass(%s) IS NOT NULL AS e", (relation,))[0]["e"]


def refused(name: str, sql: str, caplog) -> str:
    caplog.clear()
    with caplog.at_level("ERROR", logger=f"app.modules.{name}"):
        assert apply(name, sql) is False
    return " ".join(r.getMessage() for r in caplog.records)


def test_prefixed_tables_views_sequences_and_named_functions_pass(shop):
    sql = f"""
    CREATE TABLE {shop}_a (id SERIAL PRIMARY KEY, n INT);
    CREATE VIEW {shop}_v AS SELECT id FROM {shop}_a;
    CREATE SEQUENCE {shop}_seq;
    CREATE TYPE {shop}_mood AS ENUM ('ok', 'meh');
    CREATE FUNCTION auto_link_{shop}_thing() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    CREATE TRIGGER anything_goes BEFORE INSERT ON {shop}_a FOR EACH ROW EXECUTE FUNCTION auto_link_{shop}_thing();
    CREATE INDEX free_index_name_{shop} ON {shop}_a (n);
    """
    assert apply(shop, sql) is True
    assert exists(f"{shop}_a") and exists(f"{shop}_v") and exists(f"{shop}_seq")


def test_unprefixed_table_is_refused_naming_it_before_anything_runs(shop, caplog):
    message = refused(shop, f"CREATE TABLE {shop}_ok (id INT);\nCREATE TABLE orders (id INT);", caplog)
    assert f"table orders does not start with the module's table_prefix \"{shop}_\"" in message
    assert not exists(f"{shop}_ok")


@pytest.mark.parametrize("sql,expected", [
    ("CREATE VIEW plain_view AS SELECT 1", "view plain_view does not start"),
    ("CREATE MATERIALIZED VIEW plain_mv AS SELECT 1", "materialized view plain_mv does not start"),
    ("CREATE SEQUENCE plain_seq", "sequence plain_seq does not start"),
    ('CREATE TABLE IF NOT EXISTS public."Plain" (id INT)', "table Plain does not start"),
    ("CREATE FUNCTION helper() RETURNS int LANGUAGE sql AS 'SELECT 1'", "function helper() must carry the module name"),
    ("CREATE TYPE plain_type AS ENUM ('a')", "type plain_type does not start"),
    ("CREATE SCHEMA side", "CREATE SCHEMA is not allowed"),
])
def test_each_kind_of_foreign_name_is_refused(shop, caplog, sql, expected):
    assert expected in refused(shop, sql, caplog)


def test_function_name_must_hold_the_module_name_as_a_word(shop, caplog):
    assert f"function {shop}x_helper() must carry" in refused(
        shop, f"CREATE FUNCTION {shop}x_helper() RETURNS int LANGUAGE sql AS 'SELECT 1'", caplog)


def test_text_inside_strings_and_comments_is_not_mistaken_for_sql(shop):
    sql = f"""
    -- CREATE TABLE commented_out (id INT);
    /* CREATE TABLE also_commented (id INT); */
    CREATE TABLE {shop}_notes (body TEXT DEFAULT 'CREATE TABLE in_a_string (id INT)');
    CREATE FUNCTION {shop}_f() RETURNS text LANGUAGE sql AS $body$ SELECT 'CREATE TABLE x (id int)' $body$;
    """
    assert apply(shop, sql) is True


def test_do_block_creating_an_unprefixed_table_is_rolled_back(shop, caplog):
    sql = f"""
    CREATE TABLE {shop}_before_do (id INT);
    DO $$ BEGIN EXECUTE 'CREATE TABLE ' || 'hidden_' || 'table (id INT)'; END $$;
    """
    assert "table hidden_table does not start with the module's table_prefix" in refused(shop, sql, caplog)
    assert not exists("hidden_table") and not exists(f"{shop}_before_do")


def test_do_block_creating_an_unnamed_function_is_rolled_back(shop, caplog):
    sql = "DO $$ BEGIN EXECUTE 'CREATE FUNCTION sneaky_fn() RETURNS int LANGUAGE sql AS ''SELECT 1'''; END $$;"
    assert "function sneaky_fn() must carry the module name" in refused(shop, sql, caplog)


def test_core_table_may_not_get_a_foreign_key_into_a_module_table(shop, caplog):
    from app.core.database import execute_query

    assert apply(shop, f"CREATE TABLE {shop}_plans (id SERIAL PRIMARY KEY);") is True
    sql = ("DO $$ BEGIN EXECUTE 'ALTER TABLE customers ADD CONSTRAINT c_plan FOREIGN KEY (id) "
           f"REFERENCES {shop}_plans(id)'; END $$;")
    message = refused(shop, sql, caplog)
    assert f"core table customers may not get a foreign key (c_plan) into module table {shop}_plans" in message
    assert execute_query("SELECT count(*) AS n FROM pg_constraint WHERE conname = 'c_plan'")[0]["n"] == 0


def test_core_tables_may_not_be_altered_dropped_or_renamed(shop, caplog):
    assert "table customers does not belong to module" in refused(
        shop, "ALTER TABLE customers ADD COLUMN shop_flag BOOLEAN", caplog)
    assert "may not be dropped" in refused(shop, "DROP TABLE login_attempts", caplog)
    assert "table login_attempts does not belong to module" in refused(
        shop, f"ALTER TABLE login_attempts RENAME TO {shop}_stolen", caplog)
    assert exists("login_attempts")


def test_core_functions_may_not_be_replaced(shop, caplog):
    sql = "DO $$ BEGIN EXECUTE 'CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS " \
          "$f$ BEGIN RETURN NEW; END $f$'; END $$;"
    assert "function set_updated_at() does not belong to module" in refused(shop, sql, caplog)


def test_triggers_on_core_tables_are_allowed(shop):
    sql = f"""
    CREATE FUNCTION {shop}_on_customer() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
    CREATE TRIGGER whatever_name AFTER INSERT ON customers FOR EACH ROW EXECUTE FUNCTION {shop}_on_customer();
    """
    assert apply(shop, sql) is True


def test_failing_sql_returns_false_and_leaves_nothing(shop, caplog):
    message = refused(shop, f"CREATE TABLE {shop}_half (id INT);\nSELECT no_such_column FROM {shop}_half;", caplog)
    assert "no_such_column" in message
    assert not exists(f"{shop}_half")


def test_unknown_module_returns_false(caplog):
    assert "no module named 'no_such_module_q'" in refused("no_such_module_q", "SELECT 1", caplog)


def test_applied_file_edited_afterwards_fails_the_module(tmp_path):
    from app.main import create_app

    root = tmp_path / "mods"
    root.mkdir()
    name = write_module(root, "edited", migrations={"001_init.sql": "CREATE TABLE %(prefix)st (id INT);"})
    old = set_env(MODULES_DIR=str(root))
    try:
        assert create_app().state.modules.records[name].state == "enabled"
        (root / name / "migrations" / "001_init.sql").write_text(f"CREATE TABLE {name}_t (id BIGINT);")
        rec = create_app().state.modules.records[name]
        assert rec.state == "failed"
        assert "001_init.sql was changed after it was applied" in rec.error
    finally:
        set_env(**old)


def test_numbering_gap_fails_the_module(tmp_path):
    from app.main import create_app

    root = tmp_path / "mods"
    root.mkdir()
    name = write_module(root, "gap", migrations={"001_a.sql": "SELECT 1;", "003_c.sql": "SELECT 1;"})
    old = set_env(MODULES_DIR=str(root))
    try:
        rec = create_app().state.modules.records[name]
        assert rec.state == "failed" and "003_c.sql has number 003, expected 002" in rec.error
    finally:
        set_env(**old)


def test_extensions_may_be_installed(shop):
    from app.core.database import execute_query

    assert apply(shop, f"CREATE EXTENSION IF NOT EXISTS citext;\nCREATE TABLE {shop}_emails (address citext);") is True
    assert execute_query("SELECT count(*) AS n FROM pg_extension WHERE extname = 'citext'")[0]["n"] == 1
