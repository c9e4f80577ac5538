"""Login throttling per client address: many usernames tried from one address pause that
address (its own test module: it locks out the test client's address for the module)."""

from __future__ import annotations

from app.core import auth
from app.core.config import get_settings
from tests.fixtures import make_user


def test_guessing_many_usernames_from_one_address_pauses_that_address(client):
    victim = make_user()
    limit = get_settings().login_max_failures * auth.IP_FAILURE_FACTOR
    for n in range(limit):
        r = client.post("/login", data={"username": f"guess{n}", "password": "password123"}, follow_redirects=False)
        assert r.status_code == 401
    r = client.post("/login", data={"username": victim["username"], "password": victim["password"]},
                    follow_redirects=False)
    assert r.status_code == 429
    assert "Too many failed logins" in r.text
