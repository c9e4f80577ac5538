"""`bmc-hub backup` and `bmc-hub restore`: a hub with demo data is backed up while it runs,
restored into a fresh data directory (one left by an older PostgreSQL major version, which is
kept aside), and a hub started on it finds the same data: every table's row count and checksum,
and the same customers, cases, rules, reminder logs and module states through the API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from app.core import backup, database, embedded
from app.core.config import reset_settings
from app.modules.sag.reminders.tests.reminders_helpers import run_worker, set_status
from tests.fixtures import make_user, token_for

BMC_HUB = [sys.executable, "-m", "app.cli"]
# Written by the backup itself after its snapshot (the run is recorded as finished): differs by design.
NOT_COMPARED = {"backup_runs"}


def bmc_hub(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*BMC_HUB, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=240)


def table_fingerprints(url: str) -> dict[str, tuple[int, str]]:
    """{table: (rows, md5 of all rows in a stable order)} for every table of the public schema."""
    out = {}
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        for table in tables:
            row = conn.execute(sql.SQL(
                "SELECT count(*), md5(COALESCE(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t"
            ).format(sql.Identifier(table))).fetchone()
            out[table] = (row[0], row[1])
    return out


@pytest.fixture(scope="module")
def demo_hub(db, tmp_path_factory) -> dict:
    """The test database filled by `bmc-hub demo`, with reminders delivered and webshop switched off."""
    work = tmp_path_factory.mktemp("demo")
    env = dict(os.environ, DATABASE_URL=db)
    result = bmc_hub("demo", "--customers", "6", env=env, cwd=work)
    assert result.returncode == 0, result.stderr
    cases = database.execute_query("SELECT id, status FROM sag_sager WHERE closed_at IS NULL ORDER BY id LIMIT 3")
    for case in cases:
        set_status(case["id"], "on_hold" if case["status"] != "on_hold" else "in_progress")
    run_worker()
    database.execute_update("INSERT INTO module_state (name, enabled) VALUES ('webshop', false) "
                            "ON CONFLICT (name) DO UPDATE SET enabled = false")
    return {"env": env, "work": work}


def test_backup_then_restore_into_a_fresh_data_directory_gives_the_same_hub(demo_hub, db, tmp_path):
    env, work = demo_hub["env"], demo_hub["work"]
    assert database.execute_query("SELECT count(*) AS n FROM sag_reminder_logs")[0]["n"] > 0
    dump = tmp_path / "hub.dump"
    made = bmc_hub("backup", "--to", str(dump), env=env, cwd=work)
    assert made.returncode == 0, made.stderr
    manifest = json.loads(backup.manifest_path(dump).read_text())
    assert manifest["hub_version"] == backup.hub_version()
    assert "001_init.sql" in manifest["migrations"]["core"] and manifest["migrations"]["sag"]
    assert manifest["modules"]["webshop"]["enabled"] is False and manifest["modules"]["sag"]["enabled"] is True
    assert manifest["postgresql"].startswith(str(embedded_major()))
    assert database.execute_query("SELECT status, file FROM backup_runs") == [
        {"status": "ok", "file": str(dump.resolve())}]
    source = table_fingerprints(db)

    # The fresh data directory still holds the cluster of an older PostgreSQL: kept aside, not touched.
    # Outside pytest's temporary root: a pytest session starting meanwhile (a parallel run) resets that
    # root to mode 0700, which the embedded server's own system user (when run as root) cannot enter.
    fresh = Path(tempfile.mkdtemp(prefix="bmc-restore-")) / "var"
    (fresh / "pgdata").mkdir(parents=True)
    (fresh / "pgdata" / "PG_VERSION").write_text(f"{embedded_major() - 1}\n")
    restore_env = {k: v for k, v in env.items() if k != "DATABASE_URL"}
    restored = bmc_hub("restore", str(dump), "--data-dir", str(fresh), env=restore_env, cwd=work)
    assert restored.returncode == 0, restored.stderr
    assert (fresh / f"pgdata.pg{embedded_major() - 1}" / "PG_VERSION").is_file()
    assert "Restored" in restored.stdout
    pgdata = (fresh / "pgdata").resolve()
    try:
        embedded.ensure_running(fresh)
        copy = table_fingerprints(embedded.conninfo(pgdata))
        assert {t: v for t, v in copy.items() if t not in NOT_COMPARED} == \
               {t: v for t, v in source.items() if t not in NOT_COMPARED}
        assert source["sag_sager"][0] > 0 and source["sag_reminders"][0] > 0 and source["customers"][0] > 0

        again = bmc_hub("restore", str(dump), "--data-dir", str(fresh), env=restore_env, cwd=work)
        assert again.returncode == 1 and "not empty" in again.stderr
        _check_a_hub_on(fresh, source)
    finally:
        embedded.release(pgdata)
        embedded.stop(fresh)
        shutil.rmtree(fresh.parent, ignore_errors=True)
        os.environ["DATABASE_URL"] = db
        database.close_pool()
        reset_settings()


def _check_a_hub_on(data_dir: Path, source: dict[str, tuple[int, str]]) -> None:
    """Start the app on the restored data directory and read the data back through the API."""
    from app.main import create_app

    saved = os.environ.pop("DATABASE_URL")
    saved_dir = os.environ["DATA_DIR"]
    os.environ["DATA_DIR"] = str(data_dir)
    database.close_pool()
    reset_settings()
    try:
        app = create_app()
        admin = make_user("admin")
        with TestClient(app, headers={"Authorization": f"Bearer {token_for(admin)}"}) as api:
            customers = api.get("/api/v1/customers")
            assert customers.status_code == 200 and customers.json()["total"] == source["customers"][0]
            cases = api.get("/api/v1/sag")
            assert cases.status_code == 200 and cases.json()["total"] == source["sag_sager"][0]
            modules = {m["name"]: m["state"] for m in api.get("/api/v1/modules").json()}
            assert modules == {"sag": "enabled", "webshop": "disabled"}
        rows = database.execute_query(
            "SELECT (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM sag_sager) AS cases, "
            "(SELECT count(*) FROM sag_reminders) AS rules, (SELECT count(*) FROM sag_reminder_logs) AS logs")[0]
        assert rows == {"customers": source["customers"][0], "cases": source["sag_sager"][0],
                        "rules": source["sag_reminders"][0], "logs": source["sag_reminder_logs"][0]}
    finally:
        database.close_pool()
        os.environ["DATABASE_URL"] = saved
        os.environ["DATA_DIR"] = saved_dir
        reset_settings()


def embedded_major() -> int:
    from app.core.embedded_upgrade import wheel_major

    return wheel_major()


def test_restore_refuses_a_backup_from_a_newer_hub(tmp_path):
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"PGDMP not really")
    manifest = {"format": backup.MANIFEST_FORMAT, "hub_version": "99.0.0", "sha256": backup._sha256(dump),
                "migrations": {"core": ["001_init.sql"]}}
    backup.manifest_path(dump).write_text(json.dumps(manifest))
    with pytest.raises(backup.BackupError, match=r"made by BMC Hub 99\.0\.0, newer than this one"):
        backup.check_compatible(backup.read_manifest(dump))
    same_version_newer_schema = dict(manifest, hub_version=backup.hub_version(),
                                     migrations={"core": ["001_init.sql", "999_future.sql"]})
    with pytest.raises(backup.BackupError, match=r"newer hub: core migration\(s\) 999_future\.sql"):
        backup.check_compatible(same_version_newer_schema)


def test_restore_explains_a_missing_manifest_or_a_damaged_dump(tmp_path):
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"PGDMP")
    with pytest.raises(backup.BackupError, match=r"x\.dump\.manifest\.json is missing"):
        backup.read_manifest(dump)
    backup.manifest_path(dump).write_text(json.dumps({"format": 1, "sha256": "0" * 64}))
    with pytest.raises(backup.BackupError, match="does not match its manifest"):
        backup.read_manifest(dump)


def test_backup_refuses_to_overwrite_and_records_the_failure(tmp_path):
    existing = tmp_path / "taken.dump"
    existing.write_text("keep me")
    with pytest.raises(backup.BackupError, match="exists already"):
        backup.backup(existing)
    assert existing.read_text() == "keep me"
    row = database.execute_query("SELECT status, error FROM backup_runs ORDER BY id DESC LIMIT 1")[0]
    assert row["status"] == "failed" and "exists already" in row["error"]


def test_an_older_pg_dump_on_path_is_passed_over(monkeypatch, tmp_path):
    """DATABASE_URL: a pg_dump older than the server refuses to run; the wheel's is used instead."""
    old = tmp_path / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    assert shutil.which("pg_dump") == str(old)
    chosen = backup.find_tool("pg_dump", embedded_major())
    assert chosen == str(embedded.POSTGRES_BIN_PATH / "pg_dump")
    monkeypatch.setenv("PG_DUMP", str(old))
    reset_settings()
    try:
        with pytest.raises(backup.BackupError, match=r"no pg_dump for PostgreSQL \d+ or newer .*PostgreSQL 9"):
            backup.find_tool("pg_dump", embedded_major())
    finally:
        monkeypatch.delenv("PG_DUMP")
        reset_settings()


def test_restore_yes_replaces_the_contents_all_or_nothing(db, tmp_path):
    """--yes into a non-empty database: a dump that breaks midway changes nothing; a good one
    replaces everything written since (here: a user added after the backup)."""
    good = backup.backup(tmp_path / "self.dump")
    before = table_fingerprints(db)
    cut = tmp_path / "cut.dump"
    cut.write_bytes(good.path.read_bytes()[: good.path.stat().st_size * 2 // 3])
    backup.manifest_path(cut).write_text(json.dumps(dict(good.manifest, sha256=backup._sha256(cut))))
    with pytest.raises(backup.BackupError, match="reading the dump failed"):
        backup.restore(cut, yes=True)
    assert table_fingerprints(db) == before

    make_user()
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(good.path)
    backup.restore(good.path, yes=True)
    after = table_fingerprints(db)
    assert {t: v for t, v in after.items() if t not in NOT_COMPARED} == \
           {t: v for t, v in before.items() if t not in NOT_COMPARED}
