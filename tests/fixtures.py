"""Shared test fixtures.

One PostgreSQL server per test run (the embedded one in a temporary directory, or the
server of DATABASE_URL when set). The core and module migrations run once, into a
template database; every test module gets its own database cloned from it.
"""

from __future__ import annotations

import functools
import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

TEST_PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def _admin_url(url: str) -> str:
    return make_conninfo(url, dbname="postgres")


def _db_url(url: str, dbname: str) -> str:
    return make_conninfo(url, dbname=dbname)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory) -> Iterator[str]:
    """A URL (conninfo) of the PostgreSQL server the whole run uses."""
    outside = os.environ.get("DATABASE_URL")
    if outside:
        yield outside
        return
    from app.core import embedded

    data_dir = tmp_path_factory.mktemp("pg")
    url = embedded.ensure_running(data_dir, fast=True)
    yield url
    embedded.release((data_dir / "pgdata").resolve())


@pytest.fixture(scope="session", autouse=True)
def _test_environment(tmp_path_factory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("hub")
    os.environ.update({
        "DATA_DIR": str(base / "var"),
        "LOG_FILE": str(base / "logs" / "app.log"),
        "SECRET_KEY": "test-secret-key-" + uuid.uuid4().hex,
        "BASE_URL": "http://testserver",
        # The hub's default language is Danish; the suite reads pages in English unless a test
        # chooses Danish (a user's language, Accept-Language) to test the translation.
        "LANGUAGE": "en",
    })
    from app.core.config import reset_settings

    reset_settings()
    yield base


def _use_database(url: str) -> None:
    from app.core import database
    from app.core.config import reset_settings

    database.close_pool()
    os.environ["DATABASE_URL"] = url
    reset_settings()


def _drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def template_db(pg_server, _test_environment) -> Iterator[str]:
    """Name of a database with every migration applied (core and modules)."""
    name = f"bmc_template_{os.getpid()}"
    admin = _admin_url(pg_server)
    _drop(admin, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    _use_database(_db_url(pg_server, name))
    from app.core import database, migrations
    from app.main import create_app

    migrations.migrate_core()
    create_app()
    database.close_pool()
    yield name
    _drop(admin, name)


@pytest.fixture(scope="module", autouse=True)
def db(request, pg_server, template_db) -> Iterator[str]:
    """A fresh database for this test module, cloned from the migrated template."""
    mod = request.module.__name__.rsplit(".", 1)[-1][:30]
    name = f"t_{mod}_{uuid.uuid4().hex[:8]}".lower()
    admin = _admin_url(pg_server)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template_db)))
    url = _db_url(pg_server, name)
    _use_database(url)
    yield url
    from app.core import database

    database.close_pool()
    _drop(admin, name)


@pytest.fixture(scope="module")
def app(db):
    from app.main import create_app

    return create_app()


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def anon_client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@functools.lru_cache(maxsize=32)
def _password_hash(password: str) -> str:
    # argon2 is slow on purpose (~0.1 s); the suite makes hundreds of users with few passwords.
    from app.core import auth

    return auth.hash_password(password)


def make_user(role: str = "user", password: str = TEST_PASSWORD, **fields) -> dict:
    """Create a user directly in the database; returns its row plus the plain password."""
    from app.core import database

    n = next(_counter)
    username = fields.pop("username", f"{role}{n}_{uuid.uuid4().hex[:6]}")
    row = database.execute_query(
        "INSERT INTO users (username, email, full_name, password_hash, role, active, timezone, language) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
        (username, fields.pop("email", f"{username}@example.test"), fields.pop("full_name", f"Test {username}"),
         _password_hash(password), role, fields.pop("active", True),
         fields.pop("timezone", "Europe/Copenhagen"), fields.pop("language", None)),
    )[0]
    row["password"] = password
    return row


def token_for(user: dict) -> str:
    from app.core import auth

    return auth.create_api_token(user["id"], "test")


def login(client, user: dict) -> str:
    """Sign `client` in through the login form; return the session's CSRF token."""
    r = client.post("/login", data={"username": user["username"], "password": user["password"]},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    from app.core import database

    rows = database.execute_query(
        "SELECT csrf_token FROM sessions WHERE user_id = %s ORDER BY created_at DESC LIMIT 1", (user["id"],))
    return rows[0]["csrf_token"]


@pytest.fixture
def admin_user(db) -> dict:
    return make_user("admin")


@pytest.fixture
def normal_user(db) -> dict:
    return make_user("user")


@pytest.fixture
def admin_api(app, admin_user):
    """A client authenticated as an admin with a bearer token (no CSRF needed)."""
    from fastapi.testclient import TestClient

    with TestClient(app, headers={"Authorization": f"Bearer {token_for(admin_user)}"}) as c:
        c.user = admin_user
        yield c


@pytest.fixture
def user_api(app, normal_user):
    """A client authenticated as a normal user with a bearer token."""
    from fastapi.testclient import TestClient

    with TestClient(app, headers={"Authorization": f"Bearer {token_for(normal_user)}"}) as c:
        c.user = normal_user
        yield c


__all__ = ["TEST_PASSWORD", "make_user", "token_for", "login", "conninfo_to_dict"]
