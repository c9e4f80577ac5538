"""The import contracts (import-linter): the core never imports a module, the core's packages
import each other without cycles, and each module imports only the core and the modules its
module.json declares as dependencies.

The first contracts are in pyproject.toml (`lint-imports` runs those); the per-module ones are
generated here from the manifests, so a new module or dependency needs no second list.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from app.core.modules import manifest as mf

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINTS = ["app.main", "app.cli"]


def module_contracts() -> list[dict]:
    """One `forbidden` contract per module: no entry point, no module it does not depend on."""
    folders = sorted(p.name for p in mf.DEFAULT_MODULES_DIR.iterdir() if (p / "__init__.py").is_file())
    contracts = []
    for name, manifest in mf.discover(mf.DEFAULT_MODULES_DIR).items():
        allowed = {d.name for d in manifest.dependencies} | {name}
        contracts.append({
            "id": f"module-{name}",
            "name": f"Module {name} imports only the core and its dependencies",
            "type": "forbidden",
            "source_modules": [f"app.modules.{name}"],
            "forbidden_modules": ENTRY_POINTS + [f"app.modules.{f}" for f in folders if f not in allowed],
        })
    return contracts


def _ini(config: dict, contracts: list[dict]) -> str:
    def value(v) -> str:
        return "\n    " + "\n    ".join(v) if isinstance(v, list) else str(v)

    lines = ["[importlinter]"] + [f"{k} = {value(v)}" for k, v in config.items() if k != "contracts"]
    for contract in contracts:
        lines += ["", f"[importlinter:contract:{contract['id']}]"]
        lines += [f"{k} = {value(v)}" for k, v in contract.items() if k != "id"]
    return "\n".join(lines) + "\n"


def test_every_module_gets_a_contract_from_its_manifest():
    contracts = {c["id"]: c for c in module_contracts()}
    assert "module-sag" in contracts and "module-webshop" in contracts
    assert "app.modules.webshop" in contracts["module-sag"]["forbidden_modules"]
    assert "app.modules.sag" not in contracts["module-sag"]["forbidden_modules"]
    assert set(ENTRY_POINTS) <= set(contracts["module-webshop"]["forbidden_modules"])


def test_import_contracts_are_kept(tmp_path):
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert {c["id"] for c in config["contracts"]} >= {"core-never-imports-modules", "core-acyclic"}
    path = tmp_path / "importlinter.ini"
    path.write_text(_ini(config, config["contracts"] + module_contracts()))
    # Its own process: import-linter configures logging globally (it would silence the hub's loggers).
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), str(path), "--no-cache"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
