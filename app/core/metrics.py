"""Prometheus metrics, served by GET /metrics (app/core/routes/metrics.py).

Two kinds of figures, so that any number of replicas agree:
- process figures, labelled `process="<host>:<pid>"`: HTTP requests and latency per route
  template (counted by the `HTTPMetrics` middleware), open SSE streams, connection-pool
  usage, the module states this process sees;
- database figures, read from the database at each scrape (every replica answers the same):
  backups, and what the modules contribute through their "metrics" extension (e.g. the
  sag module's reminder queue and deliveries). A collector is `collect(conn) -> [families]`.

With METRICS_TOKEN unset there is no /metrics and the middleware is not installed at all.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import Mount

from app.core import database
from app.core.config import get_settings
from app.core.queries import load_queries

log = logging.getLogger("app.core.metrics")
Q = load_queries(Path(__file__).parent / "queries" / "backups.sql")

PROCESS = f"{socket.gethostname()}:{os.getpid()}"
UNMATCHED = "<unmatched>"  # one label for every unknown URL: scanners cannot blow up the series
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SCRAPE_STATEMENT_TIMEOUT_MS = 5000  # a scrape never waits long on a busy database
MODULE_STATES = ("enabled", "disabled", "failed")

# No `*_created` series beside every counter and histogram: they double the output and no
# alert here needs them.
disable_created_metrics()
REGISTRY = CollectorRegistry(auto_describe=False)
REQUESTS = Counter("bmc_http_requests", "HTTP requests answered, per route template and status",
                   ["method", "route", "status", "process"], registry=REGISTRY)
LATENCY = Histogram("bmc_http_request_duration_seconds", "Time to answer an HTTP request, per route template",
                    ["method", "route", "process"], buckets=LATENCY_BUCKETS_S, registry=REGISTRY)


# --- HTTP instrumentation ----------------------------------------------------------------

class RouteTemplates:
    """The full path template ("/api/v1/customers/{customer_id}") of the route a request matched.

    Routes of included routers know only their own part of the path, so the app's routes are
    walked once (and again when a module mounts new routes) into {id(route): full path}.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.paths: dict[int, str] = {}

    def of(self, route: Any) -> str:
        if route is None:
            return UNMATCHED
        path = self.paths.get(id(route))
        if path is None:
            self.paths.update(walk_routes(self.app.router.routes))
            path = self.paths.setdefault(id(route), getattr(route, "path", UNMATCHED) or UNMATCHED)
        return path


def walk_routes(routes, prefix: str = "") -> Iterator[tuple[int, str]]:
    for route in routes:
        context, original = getattr(route, "include_context", None), getattr(route, "original_router", None)
        if context is not None and original is not None:
            yield from walk_routes(original.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif isinstance(route, Mount):
            yield id(route), prefix + route.path + "/{path}"
        else:
            yield id(route), prefix + getattr(route, "path", "")


class HTTPMetrics:
    """ASGI middleware: one counter increment and one histogram observation per request."""

    def __init__(self, app, templates: RouteTemplates) -> None:
        self.app = app
        self.templates = templates
        # (method, route, status) -> the label children: label lookups are the costly part.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_note(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            key = (scope["method"], self.templates.of(scope.get("route")), status)
            children = self._children.get(key)
            if children is None:
                children = (REQUESTS.labels(key[0], key[1], str(status), PROCESS),
                            LATENCY.labels(key[0], key[1], PROCESS))
                self._children[key] = children
            children[0].inc()
            children[1].observe(time.perf_counter() - start)


def install(app) -> None:
    """Count the app's requests when /metrics is on (METRICS_TOKEN set); called by create_app."""
    if get_settings().metrics_token:
        app.add_middleware(HTTPMetrics, templates=RouteTemplates(app))


# --- figures gathered at scrape time -----------------------------------------------------

def _gauge(name: str, doc: str, labels: list[str], rows: list[tuple[list[str], float]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for values, value in rows:
        family.add_metric(values, value)
    return family


def process_families(app) -> list[Metric]:
    out: list[Metric] = []
    hub = getattr(app.state, "realtime", None)
    streams = hub.subscriber_count() if hub is not None else 0
    out.append(_gauge("bmc_sse_streams", "Server-Sent-Event streams open on this process", ["process"],
                      [([PROCESS], streams)]))
    pool = database._pool
    if pool is not None:
        stats = pool.get_stats()
        out.append(_gauge("bmc_db_pool_connections", "Connections of this process's pool, by state",
                          ["state", "process"],
                          [(["open", PROCESS], stats.get("pool_size", 0)),
                           (["idle", PROCESS], stats.get("pool_available", 0)),
                           (["max", PROCESS], stats.get("pool_max", 0))]))
        out.append(_gauge("bmc_db_pool_requests_waiting", "Callers waiting for a pooled connection",
                          ["process"], [([PROCESS], stats.get("requests_waiting", 0))]))
    host = getattr(app.state, "modules", None)
    if host is not None:
        rows = []
        for name, rec in sorted(host.records.items()):
            rows += [([name, s, PROCESS], 1.0 if rec.state == s else 0.0) for s in MODULE_STATES]
        out.append(_gauge("bmc_module_state", "1 for the state each module is in, as this process sees it",
                          ["module", "state", "process"], rows))
    return out


def backup_families(conn) -> list[Metric]:
    row = conn.execute(Q["summary"]).fetchone()
    last_ok = row["last_ok_at"].timestamp() if row["last_ok_at"] else 0.0
    last_failed = row["last_failed_at"].timestamp() if row["last_failed_at"] else 0.0
    return [
        _gauge("bmc_backup_last_success_timestamp_seconds", "When the last good backup finished (0: never)",
               [], [([], last_ok)]),
        _gauge("bmc_backup_last_failure_timestamp_seconds", "When the last backup failed (0: never)",
               [], [([], last_failed)]),
        _gauge("bmc_backup_failures_since_success", "Backups failed since the last good one", [],
               [([], row["failed_since_ok"])]),
    ]


def metric_extensions(host) -> list[tuple[str, Callable]]:
    """(module, collect) for every enabled module's "metrics" extension."""
    return host.extensions("metrics") if host is not None else []


def database_families(host) -> list[Metric]:
    """Figures every replica reads alike from the database; a failing collector is reported, not fatal."""
    out: list[Metric] = []
    up = GaugeMetricFamily("bmc_metrics_collector_up", "1 when the collector's figures could be read",
                           labels=["collector"])
    collectors: list[tuple[str, Callable]] = [("backups", backup_families)]
    try:
        collectors += [(f"module:{name}", fn) for name, fn in metric_extensions(host)]
    except Exception:  # noqa: BLE001 - a module's broken reference must not hide the rest
        log.exception("metrics: resolving the modules' collectors failed")
    with database.transaction() as conn:
        conn.execute("SELECT set_config('statement_timeout', %s, true)", (str(SCRAPE_STATEMENT_TIMEOUT_MS),))
        for label, fn in collectors:
            try:
                with conn.transaction():  # a savepoint: one failing collector leaves the others' reads intact
                    out += fn(conn)
                up.add_metric([label], 1.0)
            except Exception:  # noqa: BLE001
                log.exception("metrics collector %s failed", label)
                up.add_metric([label], 0.0)
    out.append(up)
    return out


class _Scrape(Collector):
    def __init__(self, app) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        yield from process_families(self.app)
        yield from database_families(getattr(self.app.state, "modules", None))


def exposition(app) -> bytes:
    """The Prometheus text for this scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scrape(app))
    return generate_latest(registry)
