"""The migration runner: order, one transaction each, checksums, gaps/duplicates, concurrency."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.core import migrations
from app.core.database import execute_query
from app.core.errors import MigrationError


def _owner() -> str:
    return f"test_{uuid.uuid4().hex[:8]}"


def _write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def _table_exists(name: str) -> bool:
    return bool(execute_query("SELECT to_regclass(%s) IS NOT NULL AS x", (name,))[0]["x"])


def test_core_migrations_are_recorded_with_name_checksum_and_time():
    applied = migrations.applied_migrations("core")
    assert [m["name"] for m in applied][0] == "001_init.sql"
    first = applied[0]
    assert first["checksum"] == migrations.checksum_of((migrations.CORE_DIR / "001_init.sql").read_text())
    assert first["applied_at"] is not None
    assert migrations.migrate_core() == [], "a second run applies nothing"


def test_migrations_are_applied_in_number_order_once(tmp_path):
    owner = _owner()
    t = f"{owner}_items"
    d = _write(tmp_path / "m", {
        # Written out of order on purpose: 002 needs 001's table.
        "002_seed.sql": f"INSERT INTO {t} (name) VALUES ('first');",
        "001_init.sql": f"CREATE TABLE {t} (id SERIAL PRIMARY KEY, name TEXT);",
        "010_more.sql": "SELECT 1;",
    } | {f"{n:03d}_noop.sql": "SELECT 1;" for n in range(3, 10)})
    done = migrations.apply_migrations(owner, d)
    assert done[:2] == ["001_init.sql", "002_seed.sql"]
    assert done[-1] == "010_more.sql" and len(done) == 10
    assert [m["name"] for m in migrations.applied_migrations(owner)] == done
    assert migrations.apply_migrations(owner, d) == []
    assert execute_query(f"SELECT name FROM {t}") == [{"name": "first"}]  # noqa: S608


def test_new_migrations_are_applied_after_the_old_ones(tmp_path):
    owner = _owner()
    d = _write(tmp_path / "m", {"001_init.sql": f"CREATE TABLE {owner}_a (id INT);"})
    assert migrations.apply_migrations(owner, d) == ["001_init.sql"]
    _write(d, {"002_more.sql": f"ALTER TABLE {owner}_a ADD COLUMN note TEXT;"})
    assert migrations.pending(owner, d) == ["002_more.sql"]
    assert migrations.apply_migrations(owner, d) == ["002_more.sql"]


def test_an_applied_file_whose_text_changed_is_refused_naming_the_file(tmp_path):
    owner = _owner()
    d = _write(tmp_path / "m", {"001_init.sql": f"CREATE TABLE {owner}_a (id INT);"})
    migrations.apply_migrations(owner, d)
    _write(d, {"001_init.sql": f"CREATE TABLE {owner}_a (id BIGINT);"})
    with pytest.raises(MigrationError, match=rf"{owner}: migration 001_init.sql was changed after it was applied"):
        migrations.apply_migrations(owner, d)


def test_a_gap_in_the_numbers_is_refused_naming_the_file(tmp_path):
    d = _write(tmp_path / "m", {"001_init.sql": "SELECT 1;", "003_late.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match=r"003_late.sql has number 003, expected 002"):
        migrations.apply_migrations(_owner(), d)


def test_a_duplicate_number_is_refused_naming_both_files(tmp_path):
    d = _write(tmp_path / "m", {"001_init.sql": "SELECT 1;", "001_other.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match=r"001_init.sql and 001_other.sql have the same number 001"):
        migrations.apply_migrations(_owner(), d)


def test_a_badly_named_file_is_refused(tmp_path):
    d = _write(tmp_path / "m", {"001_init.sql": "SELECT 1;", "2_fix.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match=r"2_fix.sql is not named NNN_name.sql"):
        migrations.apply_migrations(_owner(), d)


def test_nothing_is_applied_when_the_folder_is_refused(tmp_path):
    owner = _owner()
    d = _write(tmp_path / "m", {"001_init.sql": f"CREATE TABLE {owner}_a (id INT);", "003_x.sql": "SELECT 1;"})
    with pytest.raises(MigrationError):
        migrations.apply_migrations(owner, d)
    assert not _table_exists(f"{owner}_a")


def test_a_failing_migration_is_rolled_back_whole_and_named(tmp_path):
    owner = _owner()
    d = _write(tmp_path / "m", {
        "001_init.sql": f"CREATE TABLE {owner}_a (id INT);",
        "002_broken.sql": f"CREATE TABLE {owner}_b (id INT); INSERT INTO {owner}_missing VALUES (1);",
    })
    with pytest.raises(MigrationError, match=rf"{owner}: migration 002_broken.sql failed: .*does not exist"):
        migrations.apply_migrations(owner, d)
    assert _table_exists(f"{owner}_a"), "001 ran in its own transaction and stays"
    assert not _table_exists(f"{owner}_b"), "002 left nothing behind"
    assert [m["name"] for m in migrations.applied_migrations(owner)] == ["001_init.sql"]
    _write(d, {"002_broken.sql": f"CREATE TABLE {owner}_b (id INT);"})
    assert migrations.apply_migrations(owner, d) == ["002_broken.sql"], "fixed, it applies"


def test_two_concurrent_runners_apply_each_migration_exactly_once(tmp_path):
    owner = _owner()
    d = _write(tmp_path / "m", {
        # Slow enough that, without the advisory lock, both runners would be inside at once.
        "001_init.sql": f"SELECT pg_sleep(0.5); CREATE TABLE {owner}_a (id INT);",
        "002_seed.sql": f"INSERT INTO {owner}_a VALUES (1);",
    })
    start = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            results.append(migrations.apply_migrations(owner, d))  # each uses its own connection
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(results, key=len) == [[], ["001_init.sql", "002_seed.sql"]]
    assert execute_query(f"SELECT count(*) AS n FROM {owner}_a")[0]["n"] == 1  # noqa: S608


def test_migrate_command_reports_up_to_date():
    from app.cli import cli

    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "Migrations are up to date." in result.output


def test_the_hub_refuses_to_start_on_an_edited_migration_with_a_one_line_message(db, tmp_path):
    import os
    import subprocess
    import sys

    from app.core.database import execute_update

    execute_update("UPDATE schema_migrations SET checksum = 'edited' WHERE owner = 'core' AND name = '001_init.sql'")
    try:
        done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "bmc-hub"), "migrate"],
                              env={**os.environ, "DATABASE_URL": db, "COLUMNS": "200"}, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    finally:
        execute_update("UPDATE schema_migrations SET checksum = %s WHERE owner = 'core' AND name = '001_init.sql'",
                       (migrations.checksum_of((migrations.CORE_DIR / "001_init.sql").read_text()),))
    assert done.returncode == 1
    assert "bmc-hub: core: migration 001_init.sql was changed after it was applied" in done.stderr
    assert "Traceback" not in done.stderr
