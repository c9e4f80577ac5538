"""Setting the scene for browser tests: cases, rules and API calls as another user."""

from __future__ import annotations

import time
import uuid

import httpx

from app.core import database
from tests.fixtures import token_for

WAIT_S = 15.0


class Api:
    """HTTP calls to the live server as one user (bearer token, like a script or another browser)."""

    def __init__(self, server, user) -> None:
        self.user = user
        self.client = httpx.Client(base_url=server.url, timeout=15,
                                   headers={"Authorization": f"Bearer {token_for(user)}"})

    def call(self, method: str, url: str, json=None, expect: int | tuple = (200, 201, 204)):
        r = self.client.request(method, url, json=json)
        expected = (expect,) if isinstance(expect, int) else expect
        assert r.status_code in expected, f"{method} {url}: {r.status_code} {r.text}"
        return r.json() if r.content else None


def create_case(api: Api, assignee: dict, title: str | None = None, **fields) -> dict:
    body = {"title": title or f"Printer on fire {uuid.uuid4().hex[:6]}", "assigned_to": assignee["id"], **fields}
    return api.call("POST", "/api/v1/sag", body)


def create_rule(case_id: int | None, creator: dict, **fields) -> dict:
    from app.modules.sag.reminders import store as reminders_store

    body = {
        "name": fields.pop("name", "Tell the assignee"), "sag_id": case_id, "trigger_type": "status_change",
        "trigger_config": {"from": "any", "to": "any"}, "recipients": {"assignee": True},
        "channels": ["in_app"], "title_template": "Case moved to {{ case.status }}",
        "message_template": "Someone changed the status.", "priority": "high", "active": True,
        "repeat_every_hours": None, "escalate_after": None, "escalate_role": None, **fields,
    }
    return reminders_store.create_rule(body, creator["id"])


def change_status(api: Api, case_id: int, status: str) -> dict:
    return api.call("POST", f"/api/v1/sag/{case_id}/status", {"status": status})


def logs_for(user: dict, case_id: int | None = None) -> list[dict]:
    return database.execute_query(
        "SELECT * FROM sag_reminder_logs WHERE user_id = %s AND (%s::int IS NULL OR sag_id = %s::int) "
        "AND channel = 'in_app' ORDER BY id", (user["id"], case_id, case_id))


def wait_for_logs(user: dict, case_id: int | None, n: int = 1, status: str | None = None) -> list[dict]:
    """Poll until the worker has written `n` in-app log rows (of `status`) for the user."""
    deadline = time.monotonic() + WAIT_S
    while True:
        rows = [r for r in logs_for(user, case_id) if status is None or r["status"] == status]
        if len(rows) >= n:
            return rows
        assert time.monotonic() < deadline, f"worker wrote {len(rows)} of {n} log rows"
        time.sleep(0.05)


def wait_for_row(log_id: int, predicate, what: str) -> dict:
    deadline = time.monotonic() + WAIT_S
    while True:
        row = database.execute_query("SELECT * FROM sag_reminder_logs WHERE id = %s", (log_id,))[0]
        if predicate(row):
            return row
        assert time.monotonic() < deadline, f"log row {log_id} never got {what}: {row}"
        time.sleep(0.05)
