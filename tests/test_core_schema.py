"""The core schema: the tables others build on, created_at everywhere, updated_at kept by the
shared trigger on every mutable table, default notification preferences per user."""

from __future__ import annotations

import time

from app.core.database import execute_insert, execute_query, execute_update
from tests.fixtures import make_user

CORE_TABLES = {"users", "customers", "user_notification_preferences", "sessions", "api_tokens",
               "login_attempts", "module_state", "schema_migrations"}
APPEND_ONLY = {"login_attempts", "schema_migrations"}


def _columns(table: str) -> dict[str, str]:
    rows = execute_query("SELECT column_name, data_type FROM information_schema.columns "
                         "WHERE table_schema = 'public' AND table_name = %s", (table,))
    return {r["column_name"]: r["data_type"] for r in rows}


def test_the_core_tables_exist():
    tables = {r["table_name"] for r in execute_query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert CORE_TABLES <= tables


def test_every_core_table_has_created_at_as_timestamptz():
    for table in CORE_TABLES:
        assert _columns(table).get("created_at") == "timestamp with time zone", table


def test_every_mutable_core_table_keeps_updated_at_with_the_shared_trigger():
    triggers = {r["table"] for r in execute_query(
        "SELECT c.relname AS table FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'set_updated_at' AND NOT t.tgisinternal")}
    for table in CORE_TABLES - APPEND_ONLY:
        assert _columns(table).get("updated_at") == "timestamp with time zone", table
        assert table in triggers, f"{table} has no set_updated_at trigger"


def test_updated_at_moves_on_any_update_even_raw_sql():
    cid = execute_insert("INSERT INTO customers (name) VALUES (%s)", ("Trigger Test ApS",))
    before = execute_query("SELECT updated_at FROM customers WHERE id = %s", (cid,))[0]["updated_at"]
    time.sleep(0.01)
    execute_update("UPDATE customers SET city = 'Vejle' WHERE id = %s", (cid,))
    after = execute_query("SELECT updated_at, created_at FROM customers WHERE id = %s", (cid,))[0]
    assert after["updated_at"] > before and after["created_at"] <= before


def test_users_table_holds_the_documented_fields():
    assert {"username", "email", "full_name", "password_hash", "role", "active", "timezone"} <= set(_columns("users"))
    assert {"name", "cvr_number", "email", "phone", "address", "economic_customer_number", "active"} \
        <= set(_columns("customers"))


def test_every_user_gets_default_notification_preferences_however_created():
    user = make_user()
    prefs = execute_query("SELECT * FROM user_notification_preferences WHERE user_id = %s", (user["id"],))[0]
    assert prefs["in_app_enabled"] and prefs["email_enabled"]
    assert prefs["quiet_hours_start"] is None and prefs["max_per_hour"] is None
    assert prefs["trigger_overrides"] == {}


def test_the_database_refuses_what_the_api_would_never_write():
    import psycopg
    import pytest

    for sql, params in [
        ("INSERT INTO users (username, email, role) VALUES (%s, %s, 'root')", ("x1", "x1@x.dk")),
        ("INSERT INTO users (username, email) VALUES (%s, %s)", ("has space", "x2@x.dk")),
        ("INSERT INTO customers (name) VALUES (%s)", ("   ",)),
        ("INSERT INTO customers (name, cvr_number) VALUES (%s, %s)", ("X", "1234")),
        ("UPDATE user_notification_preferences SET quiet_hours_start = '22:00' WHERE user_id = %s",
         (make_user()["id"],)),
    ]:
        with pytest.raises(psycopg.errors.CheckViolation):
            execute_update(sql, params)
