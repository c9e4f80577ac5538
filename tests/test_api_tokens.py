"""Personal API tokens: `bmc-hub create-token USER`, Bearer authentication, revocation."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.core import auth
from app.core.database import execute_query, execute_update
from tests.fixtures import login, make_user, token_for


def _bearer(app, token: str) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def test_create_token_command_prints_a_token_that_authenticates(app, db, tmp_path):
    user = make_user()
    # The installed console script, in its own process, with the same settings.
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "bmc-hub"), "create-token",
                           user["username"], "--name", "backup script"],
                          env={**os.environ, "DATABASE_URL": db}, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    assert token.startswith(auth.TOKEN_PREFIX)
    with _bearer(app, token) as c:
        me = c.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == user["username"]
    assert me.json()["auth"] == "token"
    names = [t["name"] for t in auth.list_api_tokens(user["id"])]
    assert names == ["backup script"]


def test_create_token_for_an_unknown_or_deactivated_user_fails_clearly():
    runner = CliRunner()
    result = runner.invoke(cli, ["create-token", "no-such-user"])
    assert result.exit_code == 2
    assert "No user named 'no-such-user'" in result.output
    inactive = make_user(active=False)
    result = runner.invoke(cli, ["create-token", inactive["username"]])
    assert result.exit_code == 2
    assert "deactivated" in result.output


def test_tokens_are_stored_only_as_hashes():
    user = make_user()
    token = token_for(user)
    rows = execute_query("SELECT token_hash, token_prefix FROM api_tokens WHERE user_id = %s", (user["id"],))
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(rows)
    assert token.startswith(rows[0]["token_prefix"])


def test_bearer_requests_need_no_csrf_token(app):
    user = make_user()
    with _bearer(app, token_for(user)) as c:
        r = c.post("/api/v1/customers", json={"name": "Bearer Kunde ApS"})
    assert r.status_code == 201


def test_a_wrong_token_is_refused_even_next_to_a_valid_session(client):
    login(client, make_user())
    r = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer bmc_not-a-real-token"})
    assert r.status_code == 401
    assert r.json()["detail"] == "Invalid, expired or revoked API token"
    assert r.headers["www-authenticate"] == "Bearer"


def test_revoked_and_expired_tokens_are_refused(app):
    user = make_user()
    revoked, expired = token_for(user), token_for(user)
    tokens = {t["token_prefix"]: t["id"] for t in auth.list_api_tokens(user["id"])}
    assert auth.revoke_api_token(user["id"], tokens[revoked[:12]])
    execute_update("UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE id = %s",
                   (tokens[expired[:12]],))
    for token in (revoked, expired):
        with _bearer(app, token) as c:
            assert c.get("/api/v1/auth/me").status_code == 401


def test_a_deactivated_users_token_stops_working(app, admin_api):
    user = make_user()
    token = token_for(user)
    admin_api.patch(f"/api/v1/users/{user['id']}", json={"active": False})
    with _bearer(app, token) as c:
        assert c.get("/api/v1/auth/me").status_code == 401


def test_token_use_is_stamped():
    user = make_user()
    token = token_for(user)
    assert auth.list_api_tokens(user["id"])[0]["last_used_at"] is None
    from app.main import create_app

    with _bearer(create_app(load_modules=False), token) as c:
        c.get("/api/v1/auth/me")
    assert auth.list_api_tokens(user["id"])[0]["last_used_at"] is not None


def test_users_manage_their_own_tokens_over_the_api(user_api, app):
    r = user_api.post("/api/v1/auth/tokens", json={"name": "laptop"})
    assert r.status_code == 201
    token = r.json()["token"]
    listed = user_api.get("/api/v1/auth/tokens").json()
    mine = [t for t in listed if t["name"] == "laptop"]
    assert len(mine) == 1 and token not in str(listed)
    assert user_api.delete(f"/api/v1/auth/tokens/{mine[0]['id']}").status_code == 204
    with _bearer(app, token) as c:
        assert c.get("/api/v1/auth/me").status_code == 401
    assert user_api.delete(f"/api/v1/auth/tokens/{mine[0]['id']}").status_code == 404


def test_a_user_cannot_revoke_someone_elses_token(user_api):
    other = make_user()
    token_for(other)
    other_id = auth.list_api_tokens(other["id"])[0]["id"]
    assert user_api.delete(f"/api/v1/auth/tokens/{other_id}").status_code == 404
    assert auth.list_api_tokens(other["id"])[0]["revoked_at"] is None


def test_token_names_are_validated(user_api):
    assert user_api.post("/api/v1/auth/tokens", json={"name": ""}).status_code == 422
    assert user_api.post("/api/v1/auth/tokens", json={"name": "x" * 101}).status_code == 422


def test_me_describes_the_signed_in_user(client):
    user = make_user(full_name="Mette Jensen", timezone="Europe/Copenhagen")
    login(client, user)
    me = client.get("/api/v1/auth/me").json()
    assert me == {"id": user["id"], "username": user["username"], "email": user["email"],
                  "full_name": "Mette Jensen", "role": "user", "timezone": "Europe/Copenhagen", "auth": "session",
                  "language": "en"}  # no language of its own: the hub's (LANGUAGE=en in the suite)
