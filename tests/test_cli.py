"""The `bmc-hub` command: create-user, demo, and the admin made on first start."""

from __future__ import annotations

import uuid

from typer.testing import CliRunner

from app import cli as cli_mod
from app.cli import cli
from app.core import auth, demo
from app.core.database import execute_query, execute_update

runner = CliRunner()


def test_help_lists_every_command():
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "worker", "migrate", "create-user", "create-token", "demo", "backup", "restore"):
        assert command in result.output
    serve_help = runner.invoke(cli, ["serve", "--help"]).output
    for option in ("--host", "--port", "--no-worker"):
        assert option in serve_help


def test_create_user_asks_for_the_password_and_creates_a_user():
    name = f"cli{uuid.uuid4().hex[:8]}"
    result = runner.invoke(cli, ["create-user", name, "--email", f"{name}@bmc.dk", "--full-name", "Jonas P"],
                           input="a-long-password\na-long-password\n")
    assert result.exit_code == 0, result.output
    assert f"Created user '{name}'" in result.output
    row = execute_query("SELECT role, full_name, password_hash FROM users WHERE username = %s", (name,))[0]
    assert row["role"] == "user" and row["full_name"] == "Jonas P"
    assert auth.verify_password(row["password_hash"], "a-long-password")


def test_create_user_admin_flag_makes_an_admin():
    name = f"cli{uuid.uuid4().hex[:8]}"
    result = runner.invoke(cli, ["create-user", name, "--admin", "--email", f"{name}@bmc.dk",
                                 "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    assert execute_query("SELECT role FROM users WHERE username = %s", (name,)) == [{"role": "admin"}]


def test_create_user_explains_bad_input_and_duplicates():
    name = f"cli{uuid.uuid4().hex[:8]}"
    args = ["create-user", name, "--email", f"{name}@bmc.dk", "--password", "a-long-password"]
    assert runner.invoke(cli, args).exit_code == 0
    again = runner.invoke(cli, args)
    assert again.exit_code == 2 and "This username is already taken" in again.output
    short = runner.invoke(cli, ["create-user", "x" + name, "--email", f"x{name}@bmc.dk", "--password", "short"])
    assert short.exit_code == 2 and "password" in short.output


def test_ensure_admin_creates_one_admin_with_the_configured_password(monkeypatch):
    execute_update("UPDATE users SET active = false WHERE role = 'admin'")
    execute_update("DELETE FROM users WHERE username = %s", (cli_mod.DEFAULT_ADMIN,))
    monkeypatch.setenv("BMC_HUB_ADMIN_PASSWORD", "the-admin-password")
    from app.core.config import reset_settings

    reset_settings()
    try:
        cli_mod.ensure_admin()
        cli_mod.ensure_admin()  # idempotent
    finally:
        monkeypatch.undo()
        reset_settings()
    rows = execute_query("SELECT password_hash FROM users WHERE role = 'admin' AND active")
    assert len(rows) == 1
    assert auth.verify_password(rows[0]["password_hash"], "the-admin-password")


def test_demo_fills_in_users_and_customers_with_a_progress_bar_and_is_repeatable():
    result = runner.invoke(cli, ["demo", "--customers", "12"])
    assert result.exit_code == 0, result.output
    assert "Customers" in result.output and "100%" in result.output
    assert "Demo data:" in result.output
    usernames = {r["username"] for r in execute_query("SELECT username FROM users")}
    assert {u for u, _n, _r in demo.DEMO_USERS} <= usernames
    count = execute_query("SELECT count(*) AS n FROM customers WHERE notes = 'Demo customer.'")[0]["n"]
    assert count == 12
    again = runner.invoke(cli, ["demo", "--customers", "12"])
    assert again.exit_code == 0
    assert "0 new users, 0 new customers" in again.output
    demo_user = execute_query("SELECT password_hash FROM users WHERE username = 'mette'")[0]
    assert auth.verify_password(demo_user["password_hash"], demo.DEMO_PASSWORD)


def test_demo_cases_option_fills_up_to_the_total_and_is_repeatable():
    assert runner.invoke(cli, ["demo", "--customers", "3"]).exit_code == 0  # the normal demo's cases first
    target = execute_query("SELECT count(*) AS n FROM sag_sager")[0]["n"] + 150
    result = runner.invoke(cli, ["demo", "--customers", "3", "--cases", str(target)])
    assert result.exit_code == 0, result.output
    assert "Generated cases: 150 cases" in result.output and "Demo data:" in result.output
    assert execute_query("SELECT count(*) AS n FROM sag_sager")[0]["n"] == target
    again = runner.invoke(cli, ["demo", "--customers", "3", "--cases", str(target)])
    assert again.exit_code == 0, again.output
    assert f"the hub holds {target} cases already" in again.output
    refused = runner.invoke(cli, ["demo", "--cases", "0"])
    assert refused.exit_code == 2
