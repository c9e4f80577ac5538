"""Demo reminder rules for `bmc-hub demo`: one or more of every trigger type on the demo cases.

Called by the module's demo hook (backend/demo.py) after the demo cases. Idempotent: rules are recognised by name
and not added twice. Rules go through the same validation and triggers as rules made in
the API, so the queue gets real events (a worker running with the demo sends them).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from app.core import database
from app.core.errors import HubError
from app.modules.sag.reminders import store as reminders_store

log = logging.getLogger("app.modules.sag")
PREFIX = "Demo: "


def _pick_cases() -> dict[str, Any]:
    """A few representative open cases (with and without deadline, assigned)."""
    # The open cases with the earliest deadlines, then those without one: two index scans (the
    # open-deadline index, the primary key) rather than sorting every open case of a million.
    rows = database.execute_query(
        "SELECT id, title, deadline, assigned_to FROM ("
        "(SELECT id, title, deadline, assigned_to FROM sag_sager WHERE closed_at IS NULL AND deadline IS NOT NULL "
        "ORDER BY deadline, id LIMIT 20) UNION ALL "
        "(SELECT id, title, deadline, assigned_to FROM sag_sager WHERE closed_at IS NULL AND deadline IS NULL "
        "ORDER BY id LIMIT 20)) AS c ORDER BY (deadline IS NULL), deadline, id LIMIT 20")
    with_deadline = [r for r in rows if r["deadline"] is not None and r["assigned_to"] is not None]
    any_open = [r for r in rows if r["assigned_to"] is not None] or rows
    return {"deadline": with_deadline[0] if with_deadline else None,
            "open": any_open[0] if any_open else None,
            "other": any_open[1] if len(any_open) > 1 else None}


def _admin_id() -> int | None:
    rows = database.execute_query("SELECT id FROM users WHERE role = 'admin' AND active ORDER BY id LIMIT 1")
    return rows[0]["id"] if rows else None


def demo_rules() -> list[dict[str, Any]]:
    now = reminders_store.db_now()
    picked = _pick_cases()
    rules: list[dict[str, Any]] = [
        {"name": "Case waiting for the customer", "trigger_type": "status_change",
         "trigger_config": {"from": "any", "to": "waiting_customer"}, "recipients": {"assignee": True},
         "channels": ["in_app"], "priority": "normal",
         "title_template": "#{{ case.number }} waits for {{ case.customer or 'the customer' }}",
         "message_template": "{{ case.title }} moved from {{ old_status }} to {{ new_status }}."},
        {"name": "Case resolved", "trigger_type": "status_change",
         "trigger_config": {"from": "any", "to": "resolved"}, "recipients": {"creator": True},
         "channels": ["in_app", "email"], "priority": "low",
         "title_template": "#{{ case.number }} was resolved", "message_template": "{{ case.title }}"},
        {"name": "Urgent work started", "trigger_type": "status_change",
         "trigger_config": {"from": "new", "to": "in_progress"}, "recipients": {"roles": ["admin"]},
         "channels": ["in_app"], "priority": "high",
         "title_template": "Work started on #{{ case.number }}", "message_template": "{{ case.title }}"},
        {"name": "Deadline tomorrow", "trigger_type": "deadline", "trigger_config": {"offset_hours": 24},
         "recipients": {"assignee": True}, "channels": ["in_app", "email"], "priority": "high",
         "title_template": "#{{ case.number }} is due {{ case.deadline | datetime }}",
         "message_template": "{{ case.title }} — {{ case.excerpt }}",
         "repeat_every_hours": 4, "escalate_after": 2, "escalate_role": "admin"},
        {"name": "No activity for 5 days", "trigger_type": "inactivity", "trigger_config": {"days": 5},
         "recipients": {"assignee": True}, "channels": ["in_app"], "priority": "normal",
         "title_template": "#{{ case.number }} has been quiet for 5 days",
         "message_template": "Nothing has happened on {{ case.title }} since {{ event.inactive_since | datetime }}."},
        {"name": "SLA resolution 75 % used, and breached", "trigger_type": "sla",
         "trigger_config": {"target": "resolution", "thresholds": [75, 100]},
         "recipients": {"assignee": True}, "channels": ["in_app"], "priority": "high",
         "deliver_in_opening_hours": True,
         "title_template": "#{{ case.number }}: {{ sla.threshold }} % of the resolution time used",
         "message_template": "{{ case.title }} is due {{ sla.due_at | datetime }} (working time)."},
        {"name": "Weekly open-case review", "trigger_type": "recurring",
         "trigger_config": {"cron": "0 8 * * 1", "timezone": "Europe/Copenhagen"},
         "recipients": {"roles": ["admin"]}, "channels": ["email"], "priority": "low",
         "title_template": "Weekly review: #{{ case.number }} {{ case.title }}",
         "message_template": "Status: {{ case.status_label }}, assignee: {{ case.assignee or 'nobody' }}."},
    ]
    if picked["open"]:
        case = picked["open"]
        rules.append({"name": "Call the customer back", "sag_id": case["id"], "trigger_type": "scheduled",
                      "trigger_config": {"at": (now + timedelta(hours=2)).isoformat()},
                      "recipients": {"assignee": True}, "channels": ["in_app", "email"], "priority": "high",
                      "title_template": "Call back about #{{ case.number }}",
                      "message_template": "You promised to call about {{ case.title }}."})
        rules.append({"name": "Daily check while on hold", "sag_id": case["id"], "trigger_type": "recurring",
                      "trigger_config": {"cron": "30 9 * * 1-5", "timezone": "Europe/Copenhagen",
                                         "until": (now + timedelta(days=14)).isoformat()},
                      "recipients": {"assignee": True, "creator": True}, "channels": ["in_app"],
                      "title_template": "Daily check: #{{ case.number }}", "message_template": "{{ case.title }}"})
    if picked["deadline"]:
        case = picked["deadline"]
        rules.append({"name": "Two hours before the deadline", "sag_id": case["id"], "trigger_type": "deadline",
                      "trigger_config": {"offset_minutes": 120}, "recipients": {"assignee": True},
                      "channels": ["in_app"], "priority": "urgent",
                      "title_template": "#{{ case.number }} is due in two hours",
                      "message_template": "{{ case.title }}"})
    if picked["other"]:
        case = picked["other"]
        rules.append({"name": "Any change on this case", "sag_id": case["id"], "trigger_type": "status_change",
                      "trigger_config": {"from": "any", "to": "any"},
                      "recipients": {"assignee": True, "emails": ["kunde@example.com"]},
                      "channels": ["in_app", "email"],
                      "title_template": "#{{ case.number }} is now {{ case.status_label }}",
                      "message_template": "{{ case.title }}"})
    return rules


def run(progress, task) -> None:
    """`bmc-hub demo` part (called by backend/demo.py after the cases)."""
    existing = {r["name"] for r in database.execute_query("SELECT name FROM sag_reminders WHERE name LIKE %s",
                                                          (PREFIX + "%",))}
    rules = demo_rules()
    progress.update(task, total=len(rules), completed=0, description="Reminder rules")
    admin = _admin_id()
    made = 0
    for body in rules:
        body = dict(body, name=PREFIX + body["name"])
        if body["name"] not in existing:
            try:
                reminders_store.create_rule(body, admin)
                made += 1
            except HubError as exc:
                log.warning("demo: reminder rule %r not created: %s", body["name"], exc.message)
        progress.advance(task)
    log.info("demo: %d reminder rules created", made)
