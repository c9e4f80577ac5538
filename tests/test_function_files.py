"""Function files (`functions/*.sql`): applied with the migrations, again whenever their text
changes, in the order triggers and tables need, once under concurrency, refused when bad."""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path

import pytest

from app.core import migrations
from app.core.database import execute_query, execute_update
from app.core.errors import MigrationError
from tests.modules_fixtures import set_env, write_module


def _owner() -> str:
    return f"fn_{uuid.uuid4().hex[:8]}"


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _run(owner: str, root: Path) -> list[str]:
    return migrations.apply_migrations(owner, root / "migrations", functions_root=root)


def _answer(function: str) -> int:
    return execute_query(f"SELECT {function}() AS n")[0]["n"]  # noqa: S608


def _answer_file(owner: str, n: int) -> str:
    return (f"-- The answer.\n"
            f"CREATE OR REPLACE FUNCTION {owner}_answer() RETURNS int LANGUAGE sql AS $$ SELECT {n} $$;\n")


def test_a_changed_function_file_is_applied_again_and_its_checksum_recorded(tmp_path):
    owner = _owner()
    root = _write(tmp_path, {"functions/answer.sql": _answer_file(owner, 1)})
    _run(owner, root)
    assert _answer(f"{owner}_answer") == 1
    _write(root, {"functions/answer.sql": _answer_file(owner, 2)})
    _run(owner, root)
    assert _answer(f"{owner}_answer") == 2
    assert migrations.applied_functions(owner) == {
        "functions/answer.sql": migrations.checksum_of((root / "functions/answer.sql").read_text())}


def test_an_unchanged_function_file_is_not_applied_again(tmp_path, caplog):
    owner = _owner()
    root = _write(tmp_path, {"functions/answer.sql": _answer_file(owner, 1)})
    _run(owner, root)
    # Changed behind the runner's back: a second run that re-applied the file would undo this.
    execute_update(f"CREATE OR REPLACE FUNCTION {owner}_answer() RETURNS int LANGUAGE sql AS $$ SELECT 99 $$")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="app.core.migrations"):
        _run(owner, root)
    assert _answer(f"{owner}_answer") == 99
    assert "applied function file" not in caplog.text


def test_a_trigger_in_a_migration_finds_its_function_and_functions_find_the_tables(tmp_path):
    owner = _owner()
    root = _write(tmp_path, {
        "migrations/001_init.sql": f"""
            CREATE TABLE {owner}_items (id SERIAL PRIMARY KEY, name TEXT, touched INT NOT NULL DEFAULT 0);
            CREATE TRIGGER {owner}_items_touch BEFORE INSERT ON {owner}_items
                FOR EACH ROW EXECUTE FUNCTION {owner}_touch();
            INSERT INTO {owner}_items (name) VALUES ('made by the migration');""",
        # A trigger function whose body uses a table of the migration (bodies are checked after it).
        "functions/touch.sql": f"""CREATE OR REPLACE FUNCTION {owner}_touch() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN NEW.touched := (SELECT count(*) FROM {owner}_items) + 1; RETURN NEW; END $$;""",
        # A signature naming the migration's table: created after the migration.
        "functions/all_items.sql": f"""CREATE OR REPLACE FUNCTION {owner}_all_items() RETURNS SETOF {owner}_items
            LANGUAGE sql STABLE AS $$ SELECT * FROM {owner}_items ORDER BY id $$;""",
    })
    assert _run(owner, root) == ["001_init.sql"]
    rows = execute_query(f"SELECT name, touched FROM {owner}_all_items()")  # noqa: S608
    assert rows == [{"name": "made by the migration", "touched": 1}]
    assert set(migrations.applied_functions(owner)) == {"functions/touch.sql", "functions/all_items.sql"}


def test_function_files_are_found_in_functions_folders_anywhere_in_the_root(tmp_path):
    owner = _owner()
    root = _write(tmp_path, {"cases/functions/a.sql": _answer_file(owner, 7),
                             "reminders/functions/b.sql": _answer_file(f"{owner}_b", 8),
                             "cases/queries/not_a_function_file.sql": "-- name: x\nSELECT 1;"})
    _run(owner, root)
    assert set(migrations.applied_functions(owner)) == {"cases/functions/a.sql", "reminders/functions/b.sql"}
    assert _answer(f"{owner}_answer") == 7 and _answer(f"{owner}_b_answer") == 8


def test_two_concurrent_runners_apply_a_function_file_once(tmp_path, caplog):
    owner = _owner()
    root = _write(tmp_path, {
        # Slow enough that, without the advisory lock, both runners would be inside at once.
        "migrations/001_init.sql": f"SELECT pg_sleep(0.5); CREATE TABLE {owner}_a (id INT);",
        "functions/answer.sql": _answer_file(owner, 42),
    })
    start = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            results.append(_run(owner, root))  # each uses its own connection
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="app.core.migrations"):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert errors == []
    assert sorted(results, key=len) == [[], ["001_init.sql"]]
    applied = [r for r in caplog.records if "applied function file functions/answer.sql" in r.getMessage()]
    assert len(applied) == 1
    assert _answer(f"{owner}_answer") == 42


def test_a_function_file_with_a_broken_body_is_refused_naming_the_file(tmp_path):
    owner = _owner()
    root = _write(tmp_path, {"functions/broken.sql": f"""CREATE OR REPLACE FUNCTION {owner}_broken() RETURNS int
        LANGUAGE plpgsql AS $$ BEGIN RETURN 1 +; END $$;"""})
    with pytest.raises(MigrationError, match=rf"{owner}: function file functions/broken.sql failed: syntax error"):
        _run(owner, root)
    assert migrations.applied_functions(owner) == {}
    assert not execute_query("SELECT 1 FROM pg_proc WHERE proname = %s", (f"{owner}_broken",))


def test_a_failing_function_file_leaves_the_others_unchanged(tmp_path):
    owner = _owner()
    root = _write(tmp_path, {"functions/answer.sql": _answer_file(owner, 1)})
    _run(owner, root)
    _write(root, {"functions/answer.sql": _answer_file(owner, 2),
                  "functions/zz_broken.sql": f"CREATE OR REPLACE FUNCTION {owner}_z() RETURNS int "
                                             f"LANGUAGE sql AS $$ SELECT * FROM {owner}_missing $$;"})
    with pytest.raises(MigrationError, match=r"function file functions/zz_broken.sql failed: .*does not exist"):
        _run(owner, root)
    assert _answer(f"{owner}_answer") == 1, "the changed files are applied all together or not at all"


@pytest.mark.parametrize("text,expected", [
    ("CREATE TABLE %(o)s_t (id INT);", r"holds `CREATE TABLE .*`: a function file holds only CREATE OR REPLACE"),
    ("CREATE OR REPLACE FUNCTION %(o)s_f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n"
     "CREATE TRIGGER %(o)s_tr BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION %(o)s_f();",
     r"holds `CREATE TRIGGER"),
    ("CREATE FUNCTION %(o)s_f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;", r"write CREATE OR REPLACE"),
    ("-- only a comment\n", r"holds no CREATE OR REPLACE FUNCTION"),
    ("CREATE OR REPLACE FUNCTION %(o)s_f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;",
     r"write the body as a \$\$-quoted string"),
])
def test_a_function_file_holding_something_else_is_refused_before_anything_runs(tmp_path, text, expected):
    owner = _owner()
    root = _write(tmp_path, {"migrations/001_init.sql": f"CREATE TABLE {owner}_first (id INT);",
                             "x/functions/bad.sql": text % {"o": owner}})
    with pytest.raises(MigrationError, match=rf"{owner}: function file x/functions/bad.sql" + ".*" + expected):
        _run(owner, root)
    assert not execute_query("SELECT to_regclass(%s) AS r", (f"{owner}_first",))[0]["r"]


def test_a_deleted_function_file_is_forgotten_so_it_applies_again_when_it_returns(tmp_path):
    owner = _owner()
    root = _write(tmp_path, {"functions/answer.sql": _answer_file(owner, 1)})
    _run(owner, root)
    (root / "functions/answer.sql").unlink()
    _run(owner, root)
    assert migrations.applied_functions(owner) == {}
    execute_update(f"DROP FUNCTION {owner}_answer()")
    _write(root, {"functions/answer.sql": _answer_file(owner, 1)})
    _run(owner, root)
    assert _answer(f"{owner}_answer") == 1


def test_a_rewritten_migration_is_accepted_where_the_old_text_is_listed_as_superseded(tmp_path):
    owner = _owner()
    old = (f"CREATE TABLE {owner}_t (id INT PRIMARY KEY);\n"
           f"CREATE OR REPLACE FUNCTION {owner}_answer() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n")
    root = _write(tmp_path, {"migrations/001_init.sql": old})
    _run(owner, root)
    new = (f"-- supersedes: {migrations.checksum_of(old)}\n"
           f"CREATE TABLE {owner}_t (id INT PRIMARY KEY);\n")
    _write(root, {"migrations/001_init.sql": new, "functions/answer.sql": _answer_file(owner, 2)})
    assert _run(owner, root) == [], "nothing to apply: the database already has what the new text makes"
    assert migrations.applied_migrations(owner)[0]["checksum"] == migrations.checksum_of(new)
    assert _answer(f"{owner}_answer") == 2
    _write(root, {"migrations/001_init.sql": new + "-- an edit nobody listed\n"})
    with pytest.raises(MigrationError, match=r"001_init.sql was changed after it was applied"):
        _run(owner, root)


@pytest.fixture
def modules_root(tmp_path):
    root = tmp_path / "mods"
    root.mkdir()
    old = set_env(MODULES_DIR=str(root))
    yield root
    set_env(**old)


def test_a_module_function_file_must_carry_the_module_name(modules_root):
    from app.main import create_app

    name = write_module(modules_root, "fnprefix", files={
        "reminders/functions/helper.sql":
            "CREATE OR REPLACE FUNCTION helper() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;"})
    rec = create_app().state.modules.records[name]
    assert rec.state == "failed"
    assert "function file reminders/functions/helper.sql refused: function helper() must carry the module name" \
        in rec.error
    assert not execute_query("SELECT 1 FROM pg_proc WHERE proname = 'helper'")


def test_a_module_may_not_replace_a_core_function_from_a_function_file(modules_root):
    from app.main import create_app

    name = write_module(modules_root, "fncore", files={"functions/x.sql": (
        "CREATE OR REPLACE FUNCTION %(name)s_ok() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
        "CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN NEW; END $$;")})
    rec = create_app().state.modules.records[name]
    assert rec.state == "failed" and "function set_updated_at() must carry the module name" in rec.error


def test_a_module_function_file_changed_while_enabled_is_applied_on_the_next_start(modules_root):
    from app.main import create_app

    name = write_module(modules_root, "fnlive", migrations={
        "001_init.sql": "CREATE TABLE %(prefix)sitems (id INT, n INT);\n"
                        "CREATE TRIGGER %(prefix)sitems_n BEFORE INSERT ON %(prefix)sitems "
                        "FOR EACH ROW EXECUTE FUNCTION %(name)s_set_n();"},
        files={"functions/set_n.sql": "CREATE OR REPLACE FUNCTION %(name)s_set_n() RETURNS trigger "
                                      "LANGUAGE plpgsql AS $$ BEGIN NEW.n := 1; RETURN NEW; END $$;"})
    assert create_app().state.modules.records[name].state == "enabled"
    execute_update(f"INSERT INTO {name}_items (id) VALUES (1)")
    (modules_root / name / "functions/set_n.sql").write_text(
        f"CREATE OR REPLACE FUNCTION {name}_set_n() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN NEW.n := 2; RETURN NEW; END $$;")
    assert create_app().state.modules.records[name].state == "enabled"
    execute_update(f"INSERT INTO {name}_items (id) VALUES (2)")
    assert [r["n"] for r in execute_query(f"SELECT n FROM {name}_items ORDER BY id")] == [1, 2]  # noqa: S608


def test_execute_module_migration_of_a_file_with_a_trigger_creates_the_function_first(modules_root):
    from app.core.database import execute_module_migration

    name = write_module(modules_root, "fnscript", migrations={
        "001_init.sql": "CREATE TABLE %(prefix)sa (id INT);\n"
                        "CREATE TRIGGER %(prefix)sa_t BEFORE INSERT ON %(prefix)sa "
                        "FOR EACH ROW EXECUTE FUNCTION %(name)s_on_a();",
        "002_more.sql": "CREATE TABLE %(prefix)sb (id INT);"},
        files={"functions/on_a.sql": "CREATE OR REPLACE FUNCTION %(name)s_on_a() RETURNS trigger "
                                     "LANGUAGE plpgsql AS $$ BEGIN INSERT INTO %(prefix)sb VALUES (NEW.id); "
                                     "RETURN NEW; END $$;"})
    sql = (modules_root / name / "migrations" / "001_init.sql").read_text()
    assert execute_module_migration(name, sql) is True
    assert [m["name"] for m in migrations.applied_migrations(name)] == ["001_init.sql"]
    # Created, not yet recorded: its body uses 002's table, checked when all of them are applied.
    assert migrations.applied_functions(name) == {}
    assert execute_module_migration(name, (modules_root / name / "migrations" / "002_more.sql").read_text()) is True
    assert set(migrations.applied_functions(name)) == {"functions/on_a.sql"}
    execute_update(f"INSERT INTO {name}_a VALUES (5)")
    assert execute_query(f"SELECT id FROM {name}_b") == [{"id": 5}]  # noqa: S608


def test_purging_a_module_forgets_its_function_files_so_enabling_reinstalls_them(modules_root):
    from app.core.modules import purge
    from app.main import create_app

    name = write_module(modules_root, "fnpurge", files={
        "functions/answer.sql":
            "CREATE OR REPLACE FUNCTION %(name)s_answer() RETURNS int LANGUAGE sql AS $$ SELECT 3 $$;"})
    assert create_app().state.modules.records[name].state == "enabled"
    purge.execute(purge.plan(name, []))
    assert migrations.applied_functions(name) == {}
    assert not execute_query("SELECT 1 FROM pg_proc WHERE proname = %s", (f"{name}_answer",))
    execute_update("UPDATE module_state SET enabled = true WHERE name = %s", (name,))
    assert create_app().state.modules.records[name].state == "enabled"
    assert _answer(f"{name}_answer") == 3
