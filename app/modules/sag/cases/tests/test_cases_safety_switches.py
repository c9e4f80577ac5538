"""The module's READ_ONLY and DRY_RUN switches (MODULES__SAG__...) cover every case write."""

import pytest

from app.core import database
from app.core.config import reset_settings


@pytest.fixture
def switch(monkeypatch):
    def set_switch(name: str) -> None:
        monkeypatch.setenv(f"MODULES__SAG__{name}", "true")
        reset_settings()

    yield set_switch
    monkeypatch.undo()
    reset_settings()


def _count() -> int:
    return database.execute_query("SELECT count(*) AS n FROM sag_sager")[0]["n"]


@pytest.fixture
def case(user_api) -> dict:
    return user_api.post("/api/v1/sag", json={"title": "Server disk C: næsten fuld"}).json()


def test_read_only_refuses_every_write_and_still_reads(user_api, admin_api, case, switch):
    switch("READ_ONLY")
    before = _count()
    assert user_api.post("/api/v1/sag", json={"title": "Ny"}).status_code == 403
    assert user_api.patch(f"/api/v1/sag/{case['id']}", json={"version": 1, "title": "Ændret"}).status_code == 403
    assert user_api.post(f"/api/v1/sag/{case['id']}/status", json={"status": "closed"}).status_code == 403
    assert user_api.post(f"/api/v1/sag/{case['id']}/assign", json={"user_id": None}).status_code == 403
    assert admin_api.delete(f"/api/v1/sag/{case['id']}").status_code == 403
    assert user_api.get(f"/api/v1/sag/{case['id']}").json()["title"] == "Server disk C: næsten fuld"
    assert user_api.get("/api/v1/sag").status_code == 200
    assert _count() == before


def test_dry_run_writes_nothing_and_says_so(user_api, admin_api, case, switch):
    switch("DRY_RUN")
    before = _count()
    for r in (user_api.post("/api/v1/sag", json={"title": "Ny"}),
              user_api.patch(f"/api/v1/sag/{case['id']}", json={"version": 1, "title": "Ændret"}),
              user_api.post(f"/api/v1/sag/{case['id']}/status", json={"status": "closed"}),
              user_api.post(f"/api/v1/sag/{case['id']}/assign", json={"user_id": None}),
              admin_api.delete(f"/api/v1/sag/{case['id']}")):
        assert r.status_code == 409, r.text
        assert "DRY_RUN" in r.json()["detail"]
    after = user_api.get(f"/api/v1/sag/{case['id']}").json()
    assert (after["title"], after["status"], after["version"]) == ("Server disk C: næsten fuld", "new", 1)
    assert _count() == before
