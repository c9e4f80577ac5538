"""Every page and API route needs a signed-in user, except login, /health, static files and
routes explicitly marked `@public`; admin routes refuse a normal user. Walks the whole app,
modules included, so a route added later is covered without touching this file."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from app.core.deps import get_admin_user
from tests.fixtures import login, make_user

# /metrics needs no user but its own bearer token (METRICS_TOKEN): tests/test_metrics.py.
PUBLIC_EXPECTED = {("/login", "GET"), ("/login", "POST"), ("/health", "GET"), ("/metrics", "GET")}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _routes(app) -> list[tuple[str, str, APIRoute]]:
    """(full path, method, route) of every API route, through included routers."""
    try:
        # FastAPI >= 0.16x keeps included routers as branches of app.routes.
        from fastapi.routing import iter_route_contexts
    except ImportError:
        contexts = [(r.path, r.methods, r) for r in app.routes]
    else:
        contexts = [(c.path, c.methods, c.original_route) for c in iter_route_contexts(app.routes)]
    found = []
    for path, methods, route in contexts:
        if isinstance(route, APIRoute):
            for method in sorted(set(methods) - {"HEAD"}):
                found.append((path, method, route))
    return found


def _depends_on(dependant, target) -> bool:
    return any(d.call is target or _depends_on(d, target) for d in dependant.dependencies)


def _is_public(route: APIRoute) -> bool:
    return bool(getattr(route.endpoint, "bmc_public", False))


def test_the_walk_sees_core_and_module_routes(app):
    paths = {p for p, _m, _r in _routes(app)}
    assert {"/api/v1/customers", "/customers", "/admin/users", "/api/v1/auth/me", "/docs"} <= paths
    assert len(paths) > 15


def test_only_login_health_and_metrics_are_public_in_the_core(app):
    public = {(p, m) for p, m, r in _routes(app) if _is_public(r)}
    assert PUBLIC_EXPECTED <= public
    core_public = {(p, m) for p, m in public if not p.startswith(("/api/v1/sag", "/sag"))}
    assert core_public == PUBLIC_EXPECTED


def test_every_other_route_refuses_an_anonymous_request(app):
    failures = []
    with TestClient(app) as anon:
        for path, method, route in _routes(app):
            if _is_public(route):
                continue
            r = anon.request(method, _concrete(path), follow_redirects=False)
            if path.startswith("/api/"):
                ok = r.status_code == 401
            elif r.status_code == 303:
                ok = r.headers["location"].startswith("/login?next=")
            else:
                ok = r.status_code == 401 and method != "GET"  # a non-browser POST gets JSON
            if not ok:
                failures.append(f"{method} {path} -> {r.status_code}")
            if not path.startswith("/api/"):
                # What a browser sends: every page, also a form post, goes to the login page.
                r = anon.request(method, _concrete(path), headers={"Accept": "text/html"}, follow_redirects=False)
                if r.status_code != 303:
                    failures.append(f"{method} {path} (browser) -> {r.status_code}")
    assert failures == [], "routes reachable without signing in:\n" + "\n".join(failures)


def test_every_other_route_refuses_a_bad_bearer_token(app):
    failures = []
    with TestClient(app, headers={"Authorization": "Bearer bmc_forged"}) as c:
        for path, method, route in _routes(app):
            if _is_public(route):
                continue
            r = c.request(method, _concrete(path), follow_redirects=False)
            if r.status_code not in (401, 303):
                failures.append(f"{method} {path} -> {r.status_code}")
    assert failures == []


def test_admin_routes_refuse_a_normal_user(app, user_api):
    admin_routes = [(p, m) for p, m, r in _routes(app) if _depends_on(r.dependant, get_admin_user)]
    assert ("/api/v1/users", "GET") in admin_routes and ("/admin/users", "GET") in admin_routes
    failures = []
    for path, method in admin_routes:
        r = user_api.request(method, _concrete(path), follow_redirects=False)
        if r.status_code != 403:
            failures.append(f"{method} {path} -> {r.status_code}")
    assert failures == []


def test_admin_pages_refuse_a_normal_users_session_with_a_page(client):
    login(client, make_user())
    r = client.get("/admin/users")
    assert r.status_code == 403
    assert "Only administrators may do this" in r.text


def test_static_files_are_served_without_a_user(app):
    with TestClient(app) as anon:
        for url in ("/static/app.css", "/static/app.js", "/static/bootstrap/css/bootstrap.min.css",
                    "/static/bootstrap/js/bootstrap.bundle.min.js", "/static/swagger/swagger-ui-bundle.js"):
            assert anon.get(url).status_code == 200, url
    assert any(isinstance(r, Mount) and r.path == "/static" for r in app.routes)


def test_health_reports_the_database_without_a_user(anon_client):
    r = anon_client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("url", ["/docs", "/openapi.json"])
def test_api_docs_need_a_user(anon_client, url):
    assert anon_client.get(url, follow_redirects=False).status_code == 303


def test_api_docs_work_offline_for_a_signed_in_user(user_api):
    docs = user_api.get("/docs")
    assert docs.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    schema = user_api.get("/openapi.json").json()
    assert "/api/v1/customers" in schema["paths"]
    assert schema["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
