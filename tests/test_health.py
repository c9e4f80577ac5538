"""GET /health: up, and whether the database is reachable (no sign-in needed)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.core import database
from app.core.config import reset_settings


def test_health_is_ok_when_the_database_answers(anon_client):
    r = anon_client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def test_health_is_503_when_the_database_is_unreachable(app, monkeypatch, tmp_path, db):
    database.close_pool()
    # A Unix socket directory where no server listens.
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@/bmc_hub?host={tmp_path}&connect_timeout=1")
    reset_settings()
    try:
        # Without `with`: the app's start-up (the live-push listener) is not what is tested here.
        r = TestClient(app).get("/health")
        assert r.status_code == 503
        assert r.json()["status"] == "degraded"
        assert r.json()["database"].startswith("unreachable")
    finally:
        database.close_pool()
        monkeypatch.setenv("DATABASE_URL", db)
        reset_settings()
    assert TestClient(app).get("/health").status_code == 200
