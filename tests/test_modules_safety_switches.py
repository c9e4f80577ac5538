"""READ_ONLY and DRY_RUN are enforced by PostgreSQL, whatever the SQL looks like.

A module's transactions are READ ONLY while READ_ONLY is on (a write through a function or a
writable CTE is refused just like a plain INSERT), and rolled back at the end while DRY_RUN is
on (RETURNING values still come back, nothing persists, the log says what would have run).
"""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.fixtures import make_user, token_for
from tests.modules_fixtures import set_env, write_module

ROUTER = '''
from fastapi import APIRouter

from app.core import database
from app.core.database import execute_query, execute_script

router = APIRouter()


@router.post("/via-function", status_code=201)
def via_function(body: str):
    return {"id": execute_query("SELECT %(name)s_add_note(%%s) AS id", (body,))[0]["id"]}


@router.post("/via-cte", status_code=201)
def via_cte(body: str):
    rows = execute_query("/* c */ with x as (insert into %(prefix)snotes (body) values (%%s) returning id) "
                         "select * from x", (body,))
    return {"id": rows[0]["id"]}


@router.post("/own-connection", status_code=201)
def own_connection(body: str):
    with database.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO %(prefix)snotes (body) VALUES (%%s)", (body,))
    return {}


@router.post("/commit-escape", status_code=201)
def commit_escape(body: str):
    execute_script("COMMIT; INSERT INTO %(prefix)snotes (body) VALUES ('" + body.replace("'", "") + "')")
    return {}
'''

MIGRATION = '''
CREATE TABLE %(prefix)snotes (id SERIAL PRIMARY KEY, body TEXT NOT NULL);
CREATE FUNCTION %(name)s_add_note(note TEXT) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE new_id INTEGER;
BEGIN
    INSERT INTO %(prefix)snotes (body) VALUES (note) RETURNING id INTO new_id;
    RETURN new_id;
END $$;
'''


@pytest.fixture(scope="module")
def hub(tmp_path_factory, db):
    root = tmp_path_factory.mktemp("modules")
    old = set_env(MODULES_DIR=str(root))
    names = {
        "shop": write_module(root, "shop", router=ROUTER, views=None, migrations={"001_init.sql": MIGRATION}),
        # READ_ONLY declared on in module.json: on without any environment variable.
        "locked": write_module(root, "locked", router=ROUTER, views=None, migrations={"001_init.sql": MIGRATION},
                               manifest={"settings": {"READ_ONLY": {"type": "bool", "default": True}}}),
    }
    from app.main import create_app

    app = create_app()
    yield app, names
    set_env(**old)


@pytest.fixture(scope="module")
def api(hub):
    admin = make_user("admin")
    with TestClient(hub[0], raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {token_for(admin)}"}) as c:
        yield c


@pytest.fixture
def shop(hub):
    return hub[1]["shop"]


@pytest.fixture
def switch(shop):
    """switch("READ_ONLY") turns the shop module's switch on for this test."""
    changed = {}

    def turn_on(key: str) -> str:
        env = f"MODULES__{shop.upper()}__{key}"
        changed.update(set_env(**{env: "true"}))
        return env

    yield turn_on
    set_env(**changed)


def _bodies(module: str) -> list[str]:
    from app.core.database import execute_query

    return [r["body"] for r in execute_query(f"SELECT body FROM {module}_notes ORDER BY id")]


@pytest.mark.parametrize("route", ["via-function", "via-cte"])
def test_read_only_refuses_hidden_writes_with_403_naming_the_switch(api, shop, switch, route):
    env = switch("READ_ONLY")
    r = api.post(f"/api/v1/{shop}/{route}", params={"body": f"read-only {route}"})
    assert r.status_code == 403, r.text
    assert r.json()["detail"].startswith(f"Module {shop} is read-only ({env}=true)")
    assert f"read-only {route}" not in _bodies(shop)


@pytest.mark.parametrize("route", ["via-function", "via-cte"])
def test_dry_run_returns_the_returning_value_and_persists_nothing(api, shop, switch, route, caplog):
    switch("DRY_RUN")
    body = f"dry run {route}"
    with caplog.at_level("INFO", logger=f"app.modules.{shop}"):
        r = api.post(f"/api/v1/{shop}/{route}", params={"body": body})
    assert r.status_code == 201, r.text
    assert isinstance(r.json()["id"], int)
    assert body not in _bodies(shop)
    lines = [rec.getMessage() for rec in caplog.records if rec.name == f"app.modules.{shop}"]
    statement = f"SELECT {shop}_add_note(%s)" if route == "via-function" else f"insert into {shop}_notes"
    assert any(line.startswith("DRY_RUN: would run:") and statement in line and repr(body) in line
               for line in lines), lines


@pytest.mark.parametrize("route", ["via-function", "via-cte"])
def test_without_switches_the_same_routes_write(api, shop, route):
    r = api.post(f"/api/v1/{shop}/{route}", params={"body": f"written {route}"})
    assert r.status_code == 201, r.text
    assert f"written {route}" in _bodies(shop)


def test_module_json_default_turns_read_only_on(api, hub):
    locked = hub[1]["locked"]
    r = api.post(f"/api/v1/{locked}/via-function", params={"body": "locked"})
    assert r.status_code == 403
    assert f"MODULES__{locked.upper()}__READ_ONLY=true" in r.json()["detail"]
    assert _bodies(locked) == []


@pytest.mark.parametrize("key", ["READ_ONLY", "DRY_RUN"])
def test_the_modules_own_connection_cannot_write_either(api, shop, switch, key):
    env = switch(key)
    r = api.post(f"/api/v1/{shop}/own-connection", params={"body": f"own {key}"})
    assert r.status_code == 403, r.text
    assert f"({env}=true)" in r.json()["detail"]
    assert f"own {key}" not in _bodies(shop)


def test_module_sql_cannot_commit_its_way_out_of_read_only(api, shop, switch):
    switch("READ_ONLY")
    r = api.post(f"/api/v1/{shop}/commit-escape", params={"body": "escaped"})
    assert r.status_code == 403, r.text
    assert "escaped" not in _bodies(shop)
    # The connection the module tampered with is not handed to the core afterwards.
    for _ in range(5):
        assert api.post("/api/v1/customers", json={"name": "After an escape attempt"}).status_code == 201


def test_a_read_only_transaction_cannot_be_switched_back(hub, shop):
    from app.core.database import acting_module, execute_query

    with acting_module(shop, read_only=True), pytest.raises(psycopg.Error):
        execute_query("SET TRANSACTION READ WRITE")


def test_nested_blocks_share_one_dry_run_transaction_logged_once(hub, shop, caplog):
    from app.core.database import acting_module, execute_insert, execute_query, transaction

    with caplog.at_level("INFO", logger=f"app.modules.{shop}"), acting_module(shop, dry_run=True):
        with transaction():
            new_id = execute_insert(f"INSERT INTO {shop}_notes (body) VALUES (%s)", ("nested one",))
            with transaction():
                seen = execute_query(f"SELECT body FROM {shop}_notes WHERE id = %s", (new_id,))
                execute_insert(f"INSERT INTO {shop}_notes (body) VALUES (%s)", ("nested two",))
    assert seen == [{"body": "nested one"}]
    assert not {"nested one", "nested two"} & set(_bodies(shop))
    lines = [rec.getMessage() for rec in caplog.records if rec.getMessage().startswith("DRY_RUN")]
    assert len(lines) == 1 and "'nested one'" in lines[0] and "'nested two'" in lines[0]


def test_each_helper_call_outside_a_block_is_its_own_dry_run(hub, shop):
    from app.core.database import acting_module, execute_insert, execute_query

    with acting_module(shop, dry_run=True):
        new_id = execute_insert(f"INSERT INTO {shop}_notes (body) VALUES (%s)", ("single",))
        # The insert's transaction is already rolled back.
        assert execute_query(f"SELECT id FROM {shop}_notes WHERE id = %s", (new_id,)) == []


def test_a_module_block_inside_a_core_transaction_gets_its_own(hub, shop):
    from app.core.database import acting_module, execute_insert, transaction
    from app.core.errors import ReadOnlyViolation

    with transaction():
        execute_insert(f"INSERT INTO {shop}_notes (body) VALUES (%s)", ("core's own",))
        with acting_module(shop, read_only=True), pytest.raises(ReadOnlyViolation):
            execute_insert(f"INSERT INTO {shop}_notes (body) VALUES (%s)", ("module inside core",))
    assert "core's own" in _bodies(shop)
    assert "module inside core" not in _bodies(shop)
