"""Live enable/disable across two real `bmc-hub serve --no-worker` processes on one database.

The webshop example ships disabled. The README's `curl -X POST .../api/v1/modules/webshop/enable`
(with an admin's token) sent to one process switches it on everywhere; an admin switching it
off in one process makes the other stop serving it (API 404, page 404, navigation gone)
within a second or two, through LISTEN/NOTIFY, without a restart.
"""

from __future__ import annotations

import subprocess

import httpx
import pytest

from tests.fixtures import make_user, token_for
from tests.modules_fixtures import HubProcess, wait_until

# Generous: the hub promises 1-2 s; a loaded CI machine gets slack, the test does not time it.
PROPAGATION_TIMEOUT_S = 15.0


@pytest.fixture(scope="module")
def admin_token(db):
    return token_for(make_user("admin"))


@pytest.fixture(scope="module")
def hubs(db, tmp_path_factory):
    work = tmp_path_factory.mktemp("live")
    a, b = HubProcess(db, work / "a"), HubProcess(db, work / "b")
    try:
        yield a.wait_ready(), b.wait_ready()
    finally:
        a.stop()
        b.stop()


def _status(hub: HubProcess, path: str, token: str) -> int:
    return httpx.get(hub.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


def _nav_has_webshop(hub: HubProcess, token: str) -> bool:
    page = httpx.get(hub.url + "/", headers={"Authorization": f"Bearer {token}", "Accept": "text/html"}, timeout=10)
    assert page.status_code == 200
    return 'href="/webshop"' in page.text


def test_the_webshop_ships_disabled(hubs, admin_token):
    for hub in hubs:
        assert _status(hub, "/api/v1/webshop/items", admin_token) == 404
        assert _status(hub, "/webshop", admin_token) == 404
        assert not _nav_has_webshop(hub, admin_token)


def test_readme_curl_enable_with_an_admin_token_reaches_every_process(hubs, admin_token):
    a, b = hubs
    # README: curl -X POST http://localhost:8000/api/v1/modules/webshop/enable (+ an admin's token)
    out = subprocess.run(
        ["curl", "-sS", "-X", "POST", f"http://localhost:{b.port}/api/v1/modules/webshop/enable",
         "-H", f"Authorization: Bearer {admin_token}", "-w", "\n%{http_code}"],
        capture_output=True, text=True, timeout=60, check=True)
    body, code = out.stdout.rsplit("\n", 1)
    assert code == "200", body
    assert '"state":"enabled"' in body
    assert wait_until(lambda: _status(a, "/api/v1/webshop/items", admin_token) == 200, PROPAGATION_TIMEOUT_S)
    for hub in hubs:
        assert _status(hub, "/webshop", admin_token) == 200
        assert _nav_has_webshop(hub, admin_token)


def test_disable_in_one_process_reaches_the_other(hubs, admin_token):
    a, b = hubs
    r = httpx.post(a.url + "/api/v1/modules/webshop/disable", headers={"Authorization": f"Bearer {admin_token}"},
                   timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "disabled"
    assert _status(a, "/api/v1/webshop/items", admin_token) == 404
    assert wait_until(lambda: _status(b, "/api/v1/webshop/items", admin_token) == 404, PROPAGATION_TIMEOUT_S)
    assert _status(b, "/webshop", admin_token) == 404
    assert not _nav_has_webshop(b, admin_token)
    state = httpx.get(b.url + "/api/v1/modules/webshop", headers={"Authorization": f"Bearer {admin_token}"}).json()
    assert state["state"] == "disabled"
    # The core of both processes is unaffected.
    assert _status(b, "/api/v1/customers", admin_token) == 200


def test_curl_without_a_token_is_refused(hubs):
    out = subprocess.run(["curl", "-sS", "-X", "POST", f"http://localhost:{hubs[0].port}/api/v1/modules/webshop/enable",
                          "-w", "\n%{http_code}"], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.rsplit("\n", 1)[1] == "401"
