"""/openapi.json is the API's contract; schemathesis checks the app keeps it.

For every operation of every module (core, sag, webshop) schemathesis generates requests
from the schema, both valid ones and ones that break it, and sends them as an admin:
- no request, valid or not, gets a 5xx;
- a request that is valid per the schema is not refused as invalid (400/422) by the
  operations whose constraints used to live in code only.

What the schema cannot know is filled in from the database and the clock before a valid
request is sent (see `_ground`): existing status keys, user/customer/case ids, the
registered delivery channels (modules may add some), calendar names, and times in the future. Everything
else the handlers check must be stated in the request models.
Runs derandomized: a failure reproduces, and the failing request is printed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation import GenerationMode

from app.modules.sag.reminders.channels import registry as channel_registry
from tests.fixtures import make_user, token_for

# Requests per operation and mode; about 60 operations x 2 modes keeps the run near a minute.
MAX_EXAMPLES = 6
# Valid requests for the operations that used to refuse most of what their schema allowed.
ACCEPTANCE_EXAMPLES = 20
# An event stream never ends: each response is cut after this many seconds, and a few do.
STREAM_CUT_S = 0.3
STREAM_EXAMPLES = 2
MODULES = ("sag", "webshop")
# Their constraints used to live in code only (issue 9): valid data must not be a 400/422.
ACCEPTING = {
    "PATCH /api/v1/sag/{case_id}",
    "POST /api/v1/sag/{case_id}/status",
    "POST /api/v1/sag/reminders/rules",
    "POST /api/v1/sag/reminders/preview",
    "POST /api/v1/sag/reminders/mine/{log_id}/snooze",
    "POST /api/v1/users",
}
FUZZ = settings(deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def cheap_passwords():
    """argon2 at its production cost takes a second per hash on a loaded test machine, and the
    fuzzer creates users by the dozen; the hashing itself is tested elsewhere."""
    from argon2 import PasswordHasher

    from app.core import auth

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture(scope="module")
def world(app, cheap_passwords):
    """The app with every shipped module enabled, and rows for valid requests to name."""
    from fastapi.testclient import TestClient

    admin = make_user("admin")
    with TestClient(app, headers={"Authorization": f"Bearer {token_for(admin)}"}) as client:
        for name in MODULES:
            r = client.post(f"/api/v1/modules/{name}/enable")
            assert r.status_code == 200, r.text
        statuses = [s["key"] for s in client.get("/api/v1/sag/statuses").json()]
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=dict(client.headers))
        # The lifespan (SSE hub, module host) stays up while the fuzzer runs.
        world = {"schema": schema, "client": client, "statuses": statuses,
                 "channels": list(channel_registry())}
        _new_rows(world)
        yield world


def _new_rows(world: dict[str, Any]) -> None:
    """Fresh rows to refer to (an earlier operation may have deleted or deactivated them)."""
    client = world["client"]
    world["users"] = [make_user("user")["id"] for _ in range(2)]
    world["customer"] = client.post("/api/v1/customers", json={"name": "Fuzz A/S"}).json()["id"]
    world["case"] = client.post("/api/v1/sag", json={"title": "Fuzz target",
                                                     "assigned_to": world["users"][0]}).json()["id"]
    # Rules may name a calendar ("default" needs one): the first one made is the default for good.
    if not client.get("/api/v1/sag/calendars").json():
        assert client.post("/api/v1/sag/calendars", json={"name": "Fuzz hours"}).status_code == 201


def _operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def _ground(case, world: dict[str, Any]) -> None:
    """Replace the values only the database or the clock can make valid."""
    now = datetime.now(UTC)
    statuses, users = world["statuses"], world["users"]
    picks = itertools.count()

    def status() -> str:
        return statuses[next(picks) % len(statuses)]

    def walk(value: Any, path: tuple[str, ...]) -> Any:
        if isinstance(value, list):
            return [walk(v, path) for v in value]
        if not isinstance(value, dict):
            return value
        out = {}
        for key, v in value.items():
            out[key] = _replace(key, v, path, status, users, world, now) if v is not None else None
            out[key] = walk(out[key], (*path, key))
        if path[-1:] == ("trigger_config",) and out.get("from", "any") != "any" and out.get("from") == out.get("to"):
            out["to"] = "any"
        return out

    if isinstance(case.body, dict):
        case.body = walk(case.body, ())
    if "case_id" in (case.path_parameters or {}):
        case.path_parameters["case_id"] = world["case"]


def _replace(key: str, value: Any, path: tuple[str, ...], status: Callable[[], str], users: list[int],
             world: dict[str, Any], now: datetime) -> Any:
    if key in ("status", "expected_status") or (path[-1:] == ("trigger_config",) and key in ("from", "to")):
        return value if value == "any" else status()
    if key in ("assigned_to", "user_id"):
        return users[0]
    if key == "customer_id":
        return world["customer"]
    if key == "sag_id":
        return world["case"]
    if key == "opening_hours_calendar" or (key == "calendar" and path[-1:] == ("trigger_config",)):
        return "default"
    if key == "channels" and not path and isinstance(value, list):
        return [world["channels"][i % len(world["channels"])] for i in range(len(value))]
    if key == "users" and path[-1:] == ("recipients",):
        return users[: max(1, min(len(value), len(users)))]
    if key == "at" or (key == "until" and path[-1:] == ("trigger_config",)):
        return (now + timedelta(days=3 * 365)).isoformat()
    if key == "until":
        return (now + timedelta(days=1)).isoformat()
    return value


def _label(case, response) -> str:
    return (f"{case.operation.label} -> {response.status_code}\n  path={case.path_parameters} "
            f"query={case.query} headers={case.headers}\n  body={case.body!r}\n  answer={response.text[:400]}")


def _run(world, operation, mode: GenerationMode, examples: int, check: Callable) -> list[str]:
    failures: list[str] = []
    # A fresh admin per operation: an earlier operation may have demoted or signed out the last one.
    headers = {"Authorization": f"Bearer {token_for(make_user('admin'))}"}
    stream = operation.path.endswith("/stream")
    timeout, examples = (STREAM_CUT_S, min(examples, STREAM_EXAMPLES)) if stream else (10, examples)

    @settings(FUZZ, max_examples=examples)
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case):
        if mode.is_positive:
            _ground(case, world)
        response = case.call(headers=headers, timeout=timeout)
        problem = check(response)
        if problem and len(failures) < 3:
            failures.append(f"{problem}: {_label(case, response)}")

    send()
    # Enabling/disabling modules is one of the operations; the next one needs them all again.
    for name in MODULES:
        world["client"].post(f"/api/v1/modules/{name}/enable")
    return failures


def _no_server_error(response) -> str | None:
    return "server error" if response.status_code >= 500 else None


def _accepted(response) -> str | None:
    if response.status_code >= 500:
        return "server error"
    if response.status_code in (400, 422):
        return "valid request refused"
    return None


def test_the_schema_covers_every_module(world):
    labels = {op.label for op in _operations(world["schema"])}
    assert ACCEPTING <= labels
    for prefix in ("/api/v1/customers", "/api/v1/users", "/api/v1/auth/tokens", "/api/v1/notifications",
                   "/api/v1/modules", "/api/v1/sag", "/api/v1/sag/reminders", "/api/v1/webshop"):
        assert any(label.split(" ", 1)[1].startswith(prefix) for label in labels), prefix


def test_no_request_generated_from_the_schema_gets_a_5xx(world):
    failures = []
    for operation in _operations(world["schema"]):
        for mode in (GenerationMode.NEGATIVE, GenerationMode.POSITIVE):
            failures += _run(world, operation, mode, MAX_EXAMPLES, _no_server_error)
    assert not failures, "\n".join(failures)


def test_valid_requests_are_not_refused_as_invalid(world):
    failures = []
    for operation in _operations(world["schema"]):
        if operation.label in ACCEPTING:
            _new_rows(world)
            failures += _run(world, operation, GenerationMode.POSITIVE, ACCEPTANCE_EXAMPLES, _accepted)
    assert not failures, "\n".join(failures)


def test_a_rule_patch_with_null_recipients_is_a_422_not_a_500(world):
    client = world["client"]
    rule = client.post("/api/v1/sag/reminders/rules", json={
        "name": "n", "trigger_type": "inactivity", "trigger_config": {"days": 3}, "title_template": "t"})
    assert rule.status_code == 201, rule.text
    for field in ("recipients", "channels", "name", "active"):
        r = client.patch(f"/api/v1/sag/reminders/rules/{rule.json()['id']}", json={field: None})
        assert r.status_code == 422, r.text
        assert field in r.json()["detail"]


def test_a_cron_expression_that_never_fires_is_a_422(world):
    r = world["client"].post("/api/v1/sag/reminders/rules", json={
        "name": "n", "trigger_type": "recurring", "trigger_config": {"cron": "0 8 31 2 *"}, "title_template": "t"})
    assert r.status_code == 422 and "never fires" in r.json()["detail"], r.text
