"""GET /metrics: its protection (METRICS_TOKEN), and what it reports after real work: HTTP
requests per route template, and the reminder queue after a status change processed by a
real reminder worker (figures read from the database)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.core import metrics
from app.core.config import reset_settings
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    inbox,
    make_case,
    make_rule,
    run_worker,
    set_status,
)
from tests.fixtures import make_user, token_for

TOKEN = "scrape-me-please-0123456789"


@pytest.fixture(scope="module")
def metrics_app(db) -> Iterator:
    from app.main import create_app

    os.environ["METRICS_TOKEN"] = TOKEN
    reset_settings()
    try:
        yield create_app()
    finally:
        del os.environ["METRICS_TOKEN"]
        reset_settings()


@pytest.fixture
def scraper(metrics_app) -> Iterator[TestClient]:
    with TestClient(metrics_app, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


def scrape(client: TestClient) -> dict[tuple[str, frozenset], float]:
    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def value(samples, name: str, **labels) -> float:
    want = set(labels.items())
    found = [v for (n, ls), v in samples.items() if n == name and want <= ls]
    assert found, f"no sample {name} {labels}"
    return sum(found)


def test_metrics_refuse_a_missing_or_wrong_token(metrics_app):
    with TestClient(metrics_app) as anon:
        missing = anon.get("/metrics")
        assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
        assert anon.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert anon.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
        assert anon.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_metrics_do_not_exist_without_a_token(metrics_app, monkeypatch):
    from app.main import create_app

    monkeypatch.delenv("METRICS_TOKEN")
    reset_settings()
    try:
        plain = create_app()
        with TestClient(plain) as client:
            assert client.get("/metrics").status_code == 404
            assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404
        # No instrumentation either: nobody could read it.
        assert not any(m.cls is metrics.HTTPMetrics for m in plain.user_middleware)
    finally:
        monkeypatch.setenv("METRICS_TOKEN", TOKEN)
        reset_settings()


def test_requests_are_counted_per_route_template_not_per_path(scraper, metrics_app):
    admin = make_user("admin")
    with TestClient(metrics_app, headers={"Authorization": f"Bearer {token_for(admin)}"}) as api:
        assert api.get("/api/v1/customers/999991").status_code == 404
        assert api.get("/api/v1/customers/999992").status_code == 404
        api.get("/no/such/page/123")
    samples = scrape(scraper)
    route = "/api/v1/customers/{customer_id}"
    assert value(samples, "bmc_http_requests_total", route=route, method="GET", status="404") == 2
    assert value(samples, "bmc_http_request_duration_seconds_count", route=route, method="GET") == 2
    assert value(samples, "bmc_http_requests_total", route=metrics.UNMATCHED) >= 1
    assert not any("999991" in str(labels) or "/no/such" in str(labels) for _n, labels in samples)
    assert all(dict(labels)["process"] == metrics.PROCESS for n, labels in samples if n.startswith("bmc_http"))


def test_process_figures_carry_the_process_label(scraper):
    samples = scrape(scraper)
    assert value(samples, "bmc_module_state", module="sag", state="enabled", process=metrics.PROCESS) == 1
    assert value(samples, "bmc_module_state", module="sag", state="failed") == 0
    assert value(samples, "bmc_sse_streams", process=metrics.PROCESS) == 0
    assert value(samples, "bmc_db_pool_connections", state="max", process=metrics.PROCESS) >= 1
    assert value(samples, "bmc_metrics_collector_up", collector="module:sag") == 1
    assert value(samples, "bmc_metrics_collector_up", collector="backups") == 1
    assert value(samples, "bmc_backup_last_success_timestamp_seconds") == 0


def test_reminder_figures_follow_a_status_change_through_a_worker(scraper):
    clear_queue()
    run_worker()
    user = make_user()
    make_rule(trigger_config={"from": "new", "to": "in_progress"}, channels=["in_app", "email"])
    case = make_case(assigned_to=user["id"])
    before = scrape(scraper)

    set_status(case["id"], "in_progress")
    assert len(inbox()) == 1
    waiting = scrape(scraper)
    assert value(waiting, "bmc_reminder_queue_depth", status="inbox", kind="rule") == 1
    assert value(waiting, "bmc_reminder_oldest_due_age_seconds") >= 0

    assert run_worker() == 1
    after = scrape(scraper)
    assert value(after, "bmc_reminder_queue_depth", status="inbox") == 0
    # The rule's firing is done. (The assignee watches the case: the watchers' news of the change
    # waits a few seconds, pending or already sent depending on how fast this machine is.)
    assert sum(v for (n, ls), v in after.items()
               if n == "bmc_reminder_queue_depth" and {("status", "pending"), ("kind", "rule")} <= ls) == 0
    assert value(after, "bmc_reminder_oldest_due_age_seconds") == 0

    def grew(name, **labels):
        old = sum(v for (n, ls), v in before.items() if n == name and set(labels.items()) <= ls)
        return value(after, name, **labels) - old

    assert grew("bmc_reminder_events_processed_total", status="sent", kind="rule") == 1
    assert grew("bmc_reminder_notifications_total", channel="in_app", status="sent") == 1
    assert grew("bmc_reminder_notifications_total", channel="email", status="sent") == 1
    assert value(after, "bmc_reminder_held_back_total") >= 0
    assert value(after, "bmc_reminder_suppressed_total") >= 0
    assert value(after, "bmc_reminder_email_retries_total") >= 0


def test_a_failing_collector_is_reported_and_the_others_still_answer(scraper, monkeypatch):
    from app.modules.sag.reminders import metrics as sag_metrics

    def broken(conn):
        conn.execute("SELECT * FROM no_such_table_here")

    monkeypatch.setattr(metrics, "metric_extensions", lambda host: [("broken", broken), ("sag", sag_metrics.collect)])
    samples = scrape(scraper)
    assert value(samples, "bmc_metrics_collector_up", collector="module:broken") == 0
    # The failure rolled back to its savepoint: the collector after it still read the database.
    assert value(samples, "bmc_metrics_collector_up", collector="module:sag") == 1
    assert value(samples, "bmc_reminder_oldest_due_age_seconds") >= 0
