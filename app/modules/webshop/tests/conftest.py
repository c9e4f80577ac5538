"""The webshop ships disabled (module.json "enabled": false): its tests switch it on first."""

import pytest

from tests.modules_fixtures import enable_module


@pytest.fixture(scope="module", autouse=True)
def webshop_enabled(db):
    enable_module("webshop")
