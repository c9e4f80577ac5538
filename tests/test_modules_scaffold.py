"""The scaffold: `create_module.py` / `bmc-hub create-module` make a working module from _template."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.fixtures import make_user, token_for
from tests.modules_fixtures import ROOT, set_env, unique


@pytest.fixture
def made(tmp_path):
    from app.core.modules.scaffold import create_module

    name = unique("scaf")
    folder = create_module(name, 'A "quoted" description', target_dir=tmp_path)
    return tmp_path, name, folder


def test_every_placeholder_is_filled_in(made):
    _root, name, folder = made
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix != ".mo":  # the compiled catalog: binary, checked below
            assert "__MODULE_" not in path.read_text() and "__TABLE_PREFIX__" not in path.read_text(), path
            assert "__MODULE" not in path.name
    meta = json.loads((folder / "module.json").read_text())
    assert meta["name"] == name and meta["table_prefix"] == f"{name}_"
    assert meta["description"] == 'A "quoted" description'
    assert (folder / "tests" / f"test_{name}.py").is_file()
    sql = (folder / "migrations" / "001_init.sql").read_text()
    assert f"CREATE TABLE {name}_customers" in sql
    assert "hub_customer_id INTEGER REFERENCES customers(id)" in sql
    assert f"CREATE TRIGGER trigger_auto_link_{name}_customer\n    BEFORE INSERT OR UPDATE OF name" in sql
    assert f"EXECUTE FUNCTION auto_link_{name}_customer();" in sql


def test_generated_module_has_its_own_danish_catalog_compiled(made):
    from babel.support import Translations

    _root, name, folder = made
    po = (folder / "locale" / "da" / "LC_MESSAGES" / "messages.po").read_text()
    assert f'msgid "{name.replace("_", " ").title()}"' in po
    assert 'msgid "A \\"quoted\\" description"' in po
    catalog = Translations.load(str(folder / "locale"), ["da"], "messages")
    assert catalog.gettext("No items yet.") == "Ingen elementer endnu."
    assert catalog.gettext('A "quoted" description') == 'A "quoted" description'


def test_generated_module_passes_the_manifest_validation(made):
    from app.core.modules.manifest import load_manifest

    _root, _name, folder = made
    manifest = load_manifest(folder)
    assert manifest.errors == [] and manifest.warnings == []


def test_generated_module_loads_migrates_and_serves(made):
    from app.main import create_app

    root, name, _folder = made
    old = set_env(MODULES_DIR=str(root))
    try:
        app = create_app()
        assert app.state.modules.records[name].state == "enabled"
        with TestClient(app, headers={"Authorization": f"Bearer {token_for(make_user('admin'))}"}) as c:
            assert c.post(f"/api/v1/{name}/items", json={"name": "one"}).status_code == 201
            assert [i["name"] for i in c.get(f"/api/v1/{name}/items").json()] == ["one"]
            page = c.get(f"/{name}", headers={"Accept": "text/html"})
            assert page.status_code == 200 and name.replace("_", " ").title() in page.text
            assert c.get(f"/api/v1/{name}/status").json() == {
                "module": name, "read_only": False, "dry_run": False, "api_key_set": False}
    finally:
        set_env(**old)


def test_generated_test_passes_as_generated(made, pg_server):
    root, name, folder = made
    env = dict(os.environ, MODULES_DIR=str(root), DATABASE_URL=pg_server)
    out = subprocess.run([sys.executable, "-m", "pytest", str(folder / "tests"), "-q", "-p", "no:randomly",
                          "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT),
                          "--import-mode=importlib",
                          # Its own temp root: pytest prunes old runs' dirs under the shared one (ours).
                          "--basetemp", str(root / "child-tmp")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert out.stdout.count(".") >= 10 and "F" not in out.stdout and "E" not in out.stdout


def test_cli_create_module(tmp_path):
    from app.cli import cli

    name = unique("clim")
    old = set_env(MODULES_DIR=str(tmp_path))
    try:
        result = CliRunner().invoke(cli, ["create-module", name, "Made from the CLI"])
        assert result.exit_code == 0, result.output
        assert (tmp_path / name / "module.json").is_file()
        again = CliRunner().invoke(cli, ["create-module", name, "Again"])
        assert again.exit_code == 2 and "already exists" in again.output
    finally:
        set_env(**old)


@pytest.mark.parametrize("name,message", [
    ("Shop", "not a valid module name"),
    ("web-shop", "not a valid module name"),
    ("2shop", "not a valid module name"),
    ("import", "reserved word"),
    ("customers", "reserved word"),
    ("static", "reserved word"),
    ("x" * 41, "not a valid module name"),
])
def test_bad_names_are_refused(tmp_path, name, message):
    from app.core.errors import ValidationFailed
    from app.core.modules.scaffold import create_module

    with pytest.raises(ValidationFailed, match=message):
        create_module(name, "Description", target_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_description_is_required(tmp_path):
    from app.core.errors import ValidationFailed
    from app.core.modules.scaffold import create_module

    with pytest.raises(ValidationFailed, match="description is required"):
        create_module(unique("nodesc"), "   ", target_dir=tmp_path)
