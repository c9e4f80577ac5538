"""Load order: dependencies first, alphabetical among modules ready at the same time; a
dependency cycle is named, dependent first, for each of its members."""

from __future__ import annotations

import json

from app.core.modules import manifest as mf
from app.core.modules.order import dependency_order


def manifests(tmp_path, deps: dict[str, list[str]]) -> dict[str, mf.Manifest]:
    for name, requires in deps.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "module.json").write_text(json.dumps({
            "name": name, "version": "1.0.0", "description": name, "author": "tests", "enabled": True,
            "table_prefix": f"{name}_", "dependencies": requires}))
    return mf.discover(tmp_path)


def test_dependencies_first_then_alphabetical(tmp_path):
    order, cycles = dependency_order(manifests(tmp_path, {"alpha": ["zulu"], "bravo": [], "zulu": [],
                                                          "mike": ["alpha", "bravo"]}))
    assert order == ["bravo", "zulu", "alpha", "mike"] and cycles == {}


def test_every_member_of_a_cycle_names_it_and_still_has_a_place(tmp_path):
    order, cycles = dependency_order(manifests(tmp_path, {"pa": ["qa"], "qa": ["ra"], "ra": ["pa"],
                                                          "user": ["qa"], "free": []}))
    assert cycles == {n: "dependency cycle: pa -> qa -> ra -> pa" for n in ("pa", "qa", "ra")}
    assert sorted(order) == ["free", "pa", "qa", "ra", "user"]
    assert order.index("user") > order.index("qa")
