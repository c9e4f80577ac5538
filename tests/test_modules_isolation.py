"""A broken module never takes the hub down: it is marked failed with its reason, logged
with its name, and the core and the healthy modules keep being served.

One hub is started over a modules directory holding a healthy module and one module per
way of breaking; each test checks one of them.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.fixtures import make_user, token_for
from tests.modules_fixtures import DROP, log_text, set_env, unique, write_module

RAISING_ROUTER = '''
from fastapi import APIRouter

router = APIRouter()


@router.get("/ok")
def read_ok():
    return {"ok": True}


@router.get("/boom")
def read_boom():
    raise RuntimeError("endpoint exploded on purpose")
'''


@pytest.fixture(scope="module")
def hub(tmp_path_factory, db):
    root = tmp_path_factory.mktemp("modules")
    old = set_env(MODULES_DIR=str(root))
    n: dict[str, str] = {}
    n["healthy"] = write_module(root, "z_healthy", migrations={
        "001_init.sql": "CREATE TABLE %(prefix)sthings (id SERIAL PRIMARY KEY, name TEXT);"})
    # Sorts before its dependency: the load order must still put the dependency first.
    n["dependent"] = write_module(root, "a_dependent", manifest={"dependencies": [f"{n['healthy']}>=1.0,<2"]},
                                  migrations={"001_init.sql": (
                                      "CREATE TABLE %(prefix)slinks (id SERIAL PRIMARY KEY, thing_id INTEGER "
                                      f"REFERENCES {n['healthy']}_things(id));")})
    n["bad_json"] = write_module(root, "bad_json", raw_manifest='{"name": "x", "version": ')
    n["missing_field"] = write_module(root, "missing_field", manifest={"version": DROP})
    n["bad_fields"] = write_module(root, "bad_fields", manifest={"version": "not-a-version", "enabled": "yes"})
    n["import_error"] = write_module(root, "import_error", router="import module_that_does_not_exist_xyz\n")
    n["raises"] = write_module(root, "raises", router='raise RuntimeError("boom at import")\n')
    n["exits"] = write_module(root, "exits", router="import sys\nsys.exit(3)\n")
    n["bad_migration"] = write_module(root, "bad_migration", migrations={
        "001_init.sql": "CREATE TABLE %(prefix)sfirst (id INTEGER);\nSELECT 1 / 0;"})
    n["unprefixed"] = write_module(root, "unprefixed", migrations={
        "001_init.sql": "CREATE TABLE %(prefix)sfine (id INTEGER);\nCREATE TABLE not_mine_%(name)s (id INTEGER);"})
    n["sneaky"] = write_module(root, "sneaky", migrations={"001_init.sql": (
        "CREATE TABLE %(prefix)sfine (id INTEGER);\n"
        "DO $$ BEGIN EXECUTE 'CREATE TABLE ' || 'sneaky_' || 'x_%(name)s (id INTEGER)'; END $$;")})
    n["clash"] = write_module(root, "customers", name="customers")
    n["missing_dep"] = write_module(root, "missing_dep", manifest={"dependencies": ["no_such_module_abc"]})
    n["wrong_version"] = write_module(root, "wrong_version", manifest={"dependencies": [f"{n['healthy']}>=2"]})
    n["off"] = write_module(root, "off", manifest={"enabled": False})
    n["needs_off"] = write_module(root, "needs_off", manifest={"dependencies": [n["off"]]})
    n["needs_failed"] = write_module(root, "needs_failed", manifest={"dependencies": [n["import_error"]]})
    cycle_a, cycle_b = unique("cycle_a"), unique("cycle_b")
    n["cycle_a"] = write_module(root, "", name=cycle_a, manifest={"dependencies": [cycle_b]})
    n["cycle_b"] = write_module(root, "", name=cycle_b, manifest={"dependencies": [cycle_a]})
    n["needs_setting"] = write_module(root, "needs_setting", manifest={
        "settings": {"API_KEY": {"type": "string", "required": True, "secret": True}}})
    n["bad_setting"] = write_module(root, "bad_setting", manifest={"settings": {"LIMIT": {"type": "int"}}})
    n["raising"] = write_module(root, "raising", router=RAISING_ROUTER)
    n["overlap"] = write_module(root, "overlap", manifest={"table_prefix": f"{n['healthy']}_more_"})
    env = set_env(**{f"MODULES__{n['bad_setting'].upper()}__LIMIT": "many"})
    from app.main import create_app

    app = create_app()
    yield app, n
    set_env(**env)
    set_env(**old)


@pytest.fixture(scope="module")
def api(hub):
    app, _ = hub
    admin = make_user("admin")
    with TestClient(app, raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {token_for(admin)}"}) as c:
        yield c


@pytest.fixture(scope="module")
def states(api):
    r = api.get("/api/v1/modules")
    assert r.status_code == 200, r.text
    return {m["name"]: m for m in r.json()}


def failed(states, name) -> str:
    info = states[name]
    assert info["state"] == "failed", info
    return info["error"]


def test_healthy_module_is_served(api, hub):
    _, n = hub
    assert api.get(f"/api/v1/{n['healthy']}/ping").json() == {"module": n["healthy"], "ok": True}
    assert api.get(f"/{n['healthy']}").text == f"<p>{n['healthy']} page</p>"


def test_core_is_served(api):
    assert api.get("/health").json()["status"] == "ok"
    assert api.get("/api/v1/customers").status_code == 200
    assert api.get("/customers", headers={"Accept": "text/html"}).status_code == 200


def test_dependencies_load_first_whatever_the_names(api, hub, states):
    _, n = hub
    assert states[n["dependent"]]["state"] == "enabled"
    assert states[n["dependent"]]["dependencies"][0]["satisfied"] is True
    assert n["dependent"] in states[n["healthy"]]["dependents"]


def test_bad_json_names_the_file_and_position(states, hub):
    _, n = hub
    error = failed(states, n["bad_json"])
    assert f"{n['bad_json']}/module.json: invalid JSON at line 1" in error


def test_missing_field_names_file_and_field(states, hub):
    _, n = hub
    assert f'{n["missing_field"]}/module.json: field "version": is required' in failed(states, n["missing_field"])


def test_each_bad_field_gets_its_own_message(states, hub):
    _, n = hub
    errors = states[n["bad_fields"]]["errors"]
    assert any('field "version": must be a version like 1.0.0' in e for e in errors), errors
    assert any('field "enabled": must be true or false' in e for e in errors), errors
    assert len(errors) == 2


def test_import_error_fails_only_that_module(states, hub):
    _, n = hub
    error = failed(states, n["import_error"])
    assert "importing backend/router.py raised ModuleNotFoundError" in error
    assert "module_that_does_not_exist_xyz" in error


def test_exception_at_import_fails_only_that_module(states, hub):
    _, n = hub
    assert "RuntimeError: boom at import" in failed(states, n["raises"])
    assert "SystemExit" in failed(states, n["exits"])


def test_failing_migration_fails_the_module_and_rolls_back(states, hub):
    from app.core.database import execute_query

    _, n = hub
    assert "division by zero" in failed(states, n["bad_migration"])
    assert execute_query("SELECT to_regclass(%s) AS t", (f"{n['bad_migration']}_first",))[0]["t"] is None
    assert states[n["bad_migration"]]["applied_migrations"] == []
    assert states[n["bad_migration"]]["pending_migrations"] == ["001_init.sql"]


def test_unprefixed_table_is_refused_before_anything_runs(states, hub):
    from app.core.database import execute_query

    _, n = hub
    error = failed(states, n["unprefixed"])
    assert f"table not_mine_{n['unprefixed']} does not start with the module's table_prefix" in error
    assert "001_init.sql" in error
    assert execute_query("SELECT to_regclass(%s) AS t", (f"{n['unprefixed']}_fine",))[0]["t"] is None


def test_table_created_by_dynamic_sql_is_caught_and_rolled_back(states, hub):
    from app.core.database import execute_query

    _, n = hub
    error = failed(states, n["sneaky"])
    assert f"table sneaky_x_{n['sneaky']} does not start with the module's table_prefix" in error
    assert execute_query("SELECT to_regclass(%s) AS t", (f"sneaky_x_{n['sneaky']}",))[0]["t"] is None
    assert execute_query("SELECT to_regclass(%s) AS t", (f"{n['sneaky']}_fine",))[0]["t"] is None


def test_route_clash_with_the_core_is_refused(states, api):
    assert "route clash: its prefix /api/v1/customers is already used by the core" in failed(states, "customers")
    # The core's customers are untouched.
    assert api.get("/api/v1/customers").status_code == 200


def test_missing_dependency_keeps_the_module_out(states, hub):
    _, n = hub
    assert failed(states, n["missing_dep"]) == "requires module no_such_module_abc, which is not installed"


def test_incompatible_dependency_version_keeps_the_module_out(states, hub):
    _, n = hub
    assert failed(states, n["wrong_version"]) == f"requires {n['healthy']}>=2, but {n['healthy']} is version 1.0.0"


def test_disabled_dependency_keeps_the_module_out(states, hub):
    _, n = hub
    assert states[n["off"]]["state"] == "disabled"
    assert failed(states, n["needs_off"]) == f"requires module {n['off']}, which is disabled"


def test_failed_dependency_keeps_the_module_out(states, hub):
    _, n = hub
    assert failed(states, n["needs_failed"]).startswith(f"requires module {n['import_error']}, which failed")


def test_dependency_cycle_keeps_both_out(states, hub):
    _, n = hub
    assert failed(states, n["cycle_a"]).startswith("dependency cycle:")
    assert failed(states, n["cycle_b"]).startswith("dependency cycle:")


def test_missing_required_setting_names_the_variable(states, hub):
    _, n = hub
    error = failed(states, n["needs_setting"])
    assert f"MODULES__{n['needs_setting'].upper()}__API_KEY is required" in error


def test_badly_typed_setting_names_the_variable(states, hub):
    _, n = hub
    assert f"MODULES__{n['bad_setting'].upper()}__LIMIT must be a whole number" in failed(states, n["bad_setting"])


def test_table_prefix_inside_another_modules_prefix_is_refused(states, hub):
    _, n = hub
    assert failed(states, n["overlap"]).startswith(
        f'table_prefix "{n["healthy"]}_more_" overlaps "{n["healthy"]}_" of module {n["healthy"]}')
    assert states[n["healthy"]]["state"] == "enabled"


def test_failed_modules_answer_404(api, hub):
    _, n = hub
    assert api.get(f"/api/v1/{n['raises']}/ping").status_code == 404
    assert api.get(f"/{n['needs_off']}", headers={"Accept": "text/html"}).status_code == 404


def test_endpoint_exception_is_a_500_for_that_request_only(api, hub):
    _, n = hub
    r = api.get(f"/api/v1/{n['raising']}/boom")
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal error; it has been logged."}
    assert api.get(f"/api/v1/{n['raising']}/ok").json() == {"ok": True}
    assert api.get(f"/api/v1/{n['healthy']}/ping").status_code == 200
    assert api.get("/health").status_code == 200


def test_failures_are_logged_with_the_module_name(api, hub):
    _, n = hub
    api.get(f"/api/v1/{n['raising']}/boom")
    text = log_text()
    assert f"app.modules.{n['import_error']}: module {n['import_error']} failed: importing backend/router.py" in text
    assert f"app.modules.{n['raising']}: module {n['raising']}: unhandled error on GET /api/v1/{n['raising']}/boom" \
        in text
    assert "endpoint exploded on purpose" in text


def test_strict_mode_makes_a_module_failure_fatal(tmp_path):
    from app.core.modules.loader import ModuleStartupError
    from app.main import create_app

    root = tmp_path / "strict"
    root.mkdir()
    name = write_module(root, "strict_broken", router="import nothing_here_at_all\n")
    old = set_env(MODULES_DIR=str(root), MODULES_STRICT="true")
    try:
        with pytest.raises(ModuleStartupError, match=f"MODULES_STRICT is on and 1 module.*{name}"):
            create_app()
    finally:
        set_env(**old)
