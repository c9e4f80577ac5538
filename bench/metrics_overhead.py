"""Benchmark: what the /metrics instrumentation costs a cheap API route.

Starts a throwaway embedded PostgreSQL in a temporary directory (never ./var), migrates it,
and builds one app with METRICS_TOKEN set, served through two middleware stacks: with the
HTTPMetrics middleware (counts every request and times it per route template) and without it
(what a hub without METRICS_TOKEN runs). It then calls GET /api/v1/auth/me (a bearer token: one indexed lookup)
in-process through httpx's ASGI transport, alternating the two stacks in rounds of REQUESTS
calls so that both see the same machine load, and prints one JSON line:

    {"route": "/api/v1/auth/me", "rounds": 40, "requests_per_round": 100,
     "off_rps": ..., "on_rps": ..., "ratio": 1.01, "wall_ratio": 1.02,
     "middleware_us": 9.5, "target": 1.05}

`ratio` is the median over rounds of (this process's CPU time per request with instrumentation /
without): 1.00 = free. CPU time rather than wall time because the instrumentation costs only
CPU in the app process, and on a shared machine wall time mostly measures the neighbours;
`wall_ratio` is the same from wall-clock time, for reference. `middleware_us` is the CPU time
the middleware adds to one request, measured around an app that answers at once (no noise
from the route). Target: ratio at most 1.05.
The request rates are wall-clock throughput over all rounds.

    .venv/bin/python bench/metrics_overhead.py [--rounds 40] [--requests 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time

from _common import throwaway_database

ROUTE = "/api/v1/auth/me"
WARMUP_REQUESTS = 50
TARGET_RATIO = 1.05
MICRO_CALLS = 20_000  # calls of the bare middleware for `middleware_us`


def _stacks() -> tuple:
    """One app (METRICS_TOKEN set), as two ASGI callables: its middleware stack with and without
    HTTPMetrics. Same routes, modules and state: the middleware is the only difference."""
    from app.core import metrics
    from app.core.config import reset_settings
    from app.main import create_app

    os.environ["METRICS_TOKEN"] = "bench-metrics-token"
    reset_settings()
    app = create_app()
    assert any(m.cls is metrics.HTTPMetrics for m in app.user_middleware)
    with_metrics = app.build_middleware_stack()
    full = app.user_middleware
    app.user_middleware = [m for m in full if m.cls is not metrics.HTTPMetrics]
    without = app.build_middleware_stack()
    app.user_middleware = full

    def entry(stack):
        async def call(scope, receive, send):
            scope["app"] = app  # what Starlette.__call__ does before running its stack
            await stack(scope, receive, send)
        return call

    return entry(without), entry(with_metrics), app


async def _middleware_us(app, n: int = MICRO_CALLS) -> float:
    """CPU microseconds HTTPMetrics adds to one request (around an app that answers at once)."""
    from app.core import metrics

    async def bare(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        pass

    from starlette.routing import Route

    route = Route("/bench/{item_id}", bare)  # looked up once, then cached like any route
    wrapped = metrics.HTTPMetrics(bare, templates=metrics.RouteTemplates(app))
    took = {}
    for name, target in (("bare", bare), ("wrapped", wrapped), ("bare2", bare), ("wrapped2", wrapped)):
        start = time.process_time()
        for _ in range(n):
            await target({"type": "http", "method": "GET", "route": route}, receive, send)
        took[name] = time.process_time() - start
    return (took["wrapped"] + took["wrapped2"] - took["bare"] - took["bare2"]) / (2 * n) * 1e6


async def _timed(client, n: int) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) for `n` calls."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        r = await client.get(ROUTE)
        if r.status_code != 200:
            raise SystemExit(f"{ROUTE} answered {r.status_code}: {r.text[:200]}")
    return time.perf_counter() - wall, time.process_time() - cpu


async def _run(rounds: int, requests: int, bearer: str) -> dict:
    import httpx

    off_app, on_app, app = _stacks()
    headers = {"Authorization": f"Bearer {bearer}"}
    clients = {name: httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://bench",
                                       headers=headers) for name, a in (("off", off_app), ("on", on_app))}
    try:
        for c in clients.values():
            await _timed(c, WARMUP_REQUESTS)
        ratios, wall_ratios, totals = [], [], {"off": 0.0, "on": 0.0}
        for i in range(rounds):
            # Alternate which goes first, so neither always follows the other's garbage.
            order = ("off", "on") if i % 2 == 0 else ("on", "off")
            took = {}
            for name in order:
                took[name] = await _timed(clients[name], requests)
                totals[name] += took[name][0]
            ratios.append(took["on"][1] / took["off"][1])
            wall_ratios.append(took["on"][0] / took["off"][0])
    finally:
        for c in clients.values():
            await c.aclose()
    n = rounds * requests
    return {"route": ROUTE, "rounds": rounds, "requests_per_round": requests,
            "off_rps": round(n / totals["off"], 1), "on_rps": round(n / totals["on"], 1),
            "ratio": round(statistics.median(ratios), 3), "wall_ratio": round(statistics.median(wall_ratios), 3),
            "middleware_us": round(await _middleware_us(app), 2), "target": TARGET_RATIO}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    with throwaway_database("bmc-bench-metrics-"):
        from app.core import auth, database, migrations

        migrations.migrate_core()
        from app.main import create_app

        create_app()  # module migrations
        user_id = database.execute_insert(
            "INSERT INTO users (username, email, full_name, password_hash, role) "
            "VALUES ('bench', 'bench@example.test', 'Bench', 'x', 'user')")
        bearer = auth.create_api_token(user_id, "bench")
        result = asyncio.run(_run(args.rounds, args.requests, bearer))
        os.environ.pop("METRICS_TOKEN", None)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
