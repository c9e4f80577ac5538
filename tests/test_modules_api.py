"""Modules API and admin page: listing, enabling and disabling live, safety switches, settings."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.fixtures import login, make_user, token_for
from tests.modules_fixtures import set_env, write_module

WRITING_ROUTER = '''
from fastapi import APIRouter

from app.core.database import execute_insert, execute_query

router = APIRouter()


@router.post("/notes", status_code=201)
def create_note():
    return {"id": execute_insert("INSERT INTO %(prefix)snotes (body) VALUES (%%s)", ("hello",))}


@router.get("/notes")
def read_notes():
    return execute_query("SELECT id, body FROM %(prefix)snotes ORDER BY id")
'''


@pytest.fixture(scope="module")
def hub(tmp_path_factory, db):
    root = tmp_path_factory.mktemp("modules")
    old = set_env(MODULES_DIR=str(root))
    n = {}
    n["base"] = write_module(root, "base", manifest={
        "navigation": [{"label": "Base Module Nav", "url": "/placeholder", "order": 60}],
        "settings": {"API_KEY": {"type": "string", "secret": True},
                     "PAGE_SIZE": {"type": "int", "default": 25}},
    }, router=WRITING_ROUTER,
        migrations={"001_init.sql": "CREATE TABLE %(prefix)snotes (id SERIAL PRIMARY KEY, body TEXT);"},
        files={"static/app.js": "console.log('%(name)s');\n"})
    n["child"] = write_module(root, "child", manifest={"dependencies": [n["base"]]})
    n["later"] = write_module(root, "later", manifest={"enabled": False}, migrations={
        "001_init.sql": "CREATE TABLE %(prefix)sstuff (id SERIAL PRIMARY KEY);"})
    n["needs_key"] = write_module(root, "needs_key", manifest={
        "enabled": False, "settings": {"TOKEN": {"type": "string", "required": True}}})
    env = set_env(**{f"MODULES__{n['base'].upper()}__API_KEY": "very-secret-value"})
    from app.main import create_app

    app = create_app()
    yield app, n
    set_env(**env)
    set_env(**old)


@pytest.fixture(scope="module")
def api(hub):
    admin = make_user("admin")
    with TestClient(hub[0], raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {token_for(admin)}"}) as c:
        yield c


def test_list_shows_state_dependencies_migrations_and_settings(api, hub):
    _, n = hub
    mods = {m["name"]: m for m in api.get("/api/v1/modules").json()}
    base = mods[n["base"]]
    assert base["state"] == "enabled" and base["version"] == "1.0.0" and base["error"] is None
    assert base["description"] == "Test module base"
    assert [m["name"] for m in base["applied_migrations"]] == ["001_init.sql"]
    assert base["dependents"] == [n["child"]]
    assert mods[n["child"]]["dependencies"] == [
        {"name": n["base"], "version": "*", "installed_version": "1.0.0", "state": "enabled", "satisfied": True}]
    assert mods[n["later"]]["state"] == "disabled"
    assert mods[n["later"]]["pending_migrations"] == ["001_init.sql"]


def test_secret_settings_are_hidden(api, hub):
    _, n = hub
    settings = {s["key"]: s for s in api.get(f"/api/v1/modules/{n['base']}").json()["settings"]}
    assert settings["API_KEY"]["value"] == "********"
    assert settings["API_KEY"]["env"] == f"MODULES__{n['base'].upper()}__API_KEY"
    assert settings["PAGE_SIZE"] == {**settings["PAGE_SIZE"], "value": 25, "source": "default", "type": "int"}
    assert settings["READ_ONLY"]["value"] is False
    assert "very-secret-value" not in api.get("/api/v1/modules").text


def test_unknown_module_is_404(api):
    assert api.get("/api/v1/modules/no_such_module").status_code == 404
    assert api.post("/api/v1/modules/no_such_module/enable").status_code == 404
    assert api.get("/api/v1/modules/bad%20name!").status_code in (404, 422)


def test_only_admins_may_see_or_change_modules(hub, api):
    _, n = hub
    user = make_user("user")
    with TestClient(hub[0], headers={"Authorization": f"Bearer {token_for(user)}"}) as c:
        assert c.get("/api/v1/modules").status_code == 403
        assert c.post(f"/api/v1/modules/{n['base']}/disable").status_code == 403
    with TestClient(hub[0]) as anon:
        assert anon.get("/api/v1/modules").status_code == 401
    assert api.get(f"/api/v1/modules/{n['base']}").json()["state"] == "enabled"


def test_disabling_a_module_others_depend_on_is_refused(api, hub):
    _, n = hub
    r = api.post(f"/api/v1/modules/{n['base']}/disable")
    assert r.status_code == 409
    assert r.json()["detail"] == (f"Module {n['base']} cannot be disabled: enabled modules depend on it: "
                                  f"{n['child']}. Disable them first.")


def test_disable_makes_api_pages_and_nav_disappear_at_once(api, hub):
    _, n = hub
    admin = make_user("admin")
    with TestClient(hub[0]) as browser:
        csrf = login(browser, admin)
        assert "Base Module Nav" in browser.get("/").text
        assert browser.get(f"/static/modules/{n['base']}/app.js").status_code == 200
        assert api.post(f"/api/v1/modules/{n['child']}/disable").json()["state"] == "disabled"
        r = browser.post(f"/api/v1/modules/{n['base']}/disable", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "disabled"
        assert api.get(f"/api/v1/{n['base']}/notes").status_code == 404
        page = browser.get(f"/{n['base']}")
        assert page.status_code == 404
        assert 'href="/customers"' in page.text  # the error page keeps the user's navigation
        assert browser.get(f"/static/modules/{n['base']}/app.js").status_code == 404
        assert "Base Module Nav" not in browser.get("/").text
        # Session requests need the CSRF token.
        assert browser.post(f"/api/v1/modules/{n['base']}/enable").status_code == 403
        r = browser.post(f"/api/v1/modules/{n['base']}/enable", headers={"X-CSRF-Token": csrf})
        assert r.json()["state"] == "enabled"
        assert api.get(f"/api/v1/{n['base']}/notes").status_code == 200
        assert "Base Module Nav" in browser.get("/").text
        assert api.post(f"/api/v1/modules/{n['child']}/enable").json()["state"] == "enabled"


def test_state_is_stored_in_the_database(api, hub):
    from app.core.database import execute_query

    _, n = hub
    api.post(f"/api/v1/modules/{n['child']}/disable")
    assert execute_query("SELECT enabled FROM module_state WHERE name = %s", (n["child"],)) == [{"enabled": False}]
    api.post(f"/api/v1/modules/{n['child']}/enable")
    assert execute_query("SELECT enabled FROM module_state WHERE name = %s", (n["child"],)) == [{"enabled": True}]


def test_enabling_runs_pending_migrations_first(api, hub):
    from app.core.database import execute_query

    _, n = hub
    assert api.get(f"/api/v1/{n['later']}/ping").status_code == 404
    r = api.post(f"/api/v1/modules/{n['later']}/enable")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "enabled"
    assert [m["name"] for m in r.json()["applied_migrations"]] == ["001_init.sql"]
    assert execute_query("SELECT to_regclass(%s) AS t", (f"{n['later']}_stuff",))[0]["t"] is not None
    assert api.get(f"/api/v1/{n['later']}/ping").json()["ok"] is True


def test_enabling_with_a_missing_required_setting_is_refused_naming_it(api, hub):
    _, n = hub
    r = api.post(f"/api/v1/modules/{n['needs_key']}/enable")
    assert r.status_code == 409
    assert f"MODULES__{n['needs_key'].upper()}__TOKEN is required" in r.json()["detail"]
    assert api.get(f"/api/v1/modules/{n['needs_key']}").json()["enabled"] is False


def test_enabling_needs_the_dependencies_enabled(api, hub):
    _, n = hub
    api.post(f"/api/v1/modules/{n['child']}/disable")
    api.post(f"/api/v1/modules/{n['base']}/disable")
    r = api.post(f"/api/v1/modules/{n['child']}/enable")
    assert r.status_code == 409
    assert r.json()["detail"] == f"Module {n['child']} needs these modules enabled first: {n['base']} (disabled)"
    api.post(f"/api/v1/modules/{n['base']}/enable")
    assert api.post(f"/api/v1/modules/{n['child']}/enable").json()["state"] == "enabled"


def test_read_only_refuses_the_module_writes(api, hub):
    _, n = hub
    old = set_env(**{f"MODULES__{n['base'].upper()}__READ_ONLY": "true"})
    try:
        r = api.post(f"/api/v1/{n['base']}/notes")
        assert r.status_code == 403
        env = f"MODULES__{n['base'].upper()}__READ_ONLY"
        assert r.json()["detail"].startswith(f"Module {n['base']} is read-only ({env}=true)")
        assert api.get(f"/api/v1/{n['base']}/notes").status_code == 200  # reading still works
        # The core is not the module: its writes go on.
        assert api.post("/api/v1/customers", json={"name": "Read-only bystander"}).status_code == 201
    finally:
        set_env(**old)
    assert api.post(f"/api/v1/{n['base']}/notes").status_code == 201


def test_dry_run_logs_instead_of_writing(api, hub, caplog):
    _, n = hub
    before = len(api.get(f"/api/v1/{n['base']}/notes").json())
    old = set_env(**{f"MODULES__{n['base'].upper()}__DRY_RUN": "true"})
    try:
        with caplog.at_level("INFO", logger=f"app.modules.{n['base']}"):
            r = api.post(f"/api/v1/{n['base']}/notes")
        # The statement ran (RETURNING gave an id) and was rolled back.
        assert r.status_code == 201 and isinstance(r.json()["id"], int)
        assert any("DRY_RUN: would run: INSERT INTO" in rec.getMessage() for rec in caplog.records)
    finally:
        set_env(**old)
    assert len(api.get(f"/api/v1/{n['base']}/notes").json()) == before


def test_acting_module_applies_outside_requests_too(hub):
    from app.core.database import acting_module, execute_insert
    from app.core.errors import ReadOnlyViolation

    _, n = hub
    old = set_env(**{f"MODULES__{n['base'].upper()}__READ_ONLY": "true"})
    try:
        with acting_module(n["base"]), pytest.raises(ReadOnlyViolation):
            execute_insert(f"INSERT INTO {n['base']}_notes (body) VALUES (%s)", ("x",))
        assert execute_insert(f"INSERT INTO {n['base']}_notes (body) VALUES (%s)", ("core",)) is not None
    finally:
        set_env(**old)


def test_read_only_also_refuses_composed_sql(hub):
    from psycopg import sql

    from app.core.database import acting_module, execute_update
    from app.core.errors import ReadOnlyViolation

    _, n = hub
    statement = sql.SQL("UPDATE {} SET body = %s").format(sql.Identifier(f"{n['base']}_notes"))
    old = set_env(**{f"MODULES__{n['base'].upper()}__READ_ONLY": "true"})
    try:
        with acting_module(n["base"]), pytest.raises(ReadOnlyViolation):
            execute_update(statement, ("changed",))
    finally:
        set_env(**old)


def test_admin_page_lists_modules_with_buttons(hub):
    _, n = hub
    admin = make_user("admin")
    with TestClient(hub[0]) as browser:
        csrf = login(browser, admin)
        page = browser.get("/admin/modules")
        assert page.status_code == 200
        assert n["base"] in page.text and n["needs_key"] in page.text
        assert f'action="/admin/modules/{n["later"]}/disable"' in page.text
        assert "Modules" in browser.get("/").text  # in the Admin menu
        r = browser.post(f"/admin/modules/{n['base']}/disable", data={"csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 409
        assert "enabled modules depend on it" in r.text
        r = browser.post(f"/admin/modules/{n['later']}/disable", data={"csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303
        assert browser.post(f"/admin/modules/{n['later']}/disable", data={}).status_code == 403
        assert browser.get(f"/api/v1/modules/{n['later']}").json()["state"] == "disabled"
    user = make_user("user")
    with TestClient(hub[0]) as browser:
        login(browser, user)
        assert browser.get("/admin/modules").status_code == 403


def test_dry_run_covers_scripts_too(hub):
    from app.core.database import acting_module, execute_query, execute_script

    _, n = hub
    old = set_env(**{f"MODULES__{n['base'].upper()}__DRY_RUN": "true"})
    try:
        with acting_module(n["base"]):
            execute_script(f"CREATE TABLE {n['base']}_dry (id INT)")
    finally:
        set_env(**old)
    assert execute_query("SELECT to_regclass(%s) AS t", (f"{n['base']}_dry",))[0]["t"] is None
