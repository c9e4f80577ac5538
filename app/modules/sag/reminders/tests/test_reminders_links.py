"""Signed action links from e-mails: work without a session, refuse expired, tampered and foreign ones."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from app.core import database, signing
from app.modules.sag.reminders.email import LINK_PURPOSE_ACTION, action_link, open_link
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    events,
    logs,
    make_case,
    make_rule,
    run_worker,
    set_status,
)
from tests.fixtures import login, make_user


def _path(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def _delivered(user):
    clear_queue()
    case = make_case(assigned_to=user["id"])
    rule = make_rule(sag_id=case["id"])
    set_status(case["id"], "in_progress")
    run_worker()
    [row] = logs(rule_id=rule["id"], user_id=user["id"])
    return row


def test_open_link_marks_clicked_and_redirects_to_the_case_without_a_session(app):
    u = make_user()
    row = _delivered(u)
    with TestClient(app) as anon:
        r = anon.get(_path(open_link(row["id"], u["id"])), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/sag/{row['sag_id']}"
    [after] = logs(id=row["id"])
    assert after["clicked_at"] is not None and after["seen_at"] is not None


def test_acknowledge_needs_confirm_page_then_post(app):
    u = make_user()
    row = _delivered(u)
    url = _path(action_link(row["id"], u["id"], "acknowledge"))
    with TestClient(app) as anon:
        page = anon.get(url)
        assert page.status_code == 200 and "Acknowledge this reminder" in page.text
        assert logs(id=row["id"])[0]["acknowledged_at"] is None  # GET changes nothing
        done = anon.post(url)
    assert done.status_code == 200 and "Acknowledged" in done.text
    assert logs(id=row["id"])[0]["acknowledged_at"] is not None


def test_snooze_link_snoozes_and_queues_the_return(app):
    u = make_user()
    row = _delivered(u)
    with TestClient(app) as anon:
        r = anon.post(_path(action_link(row["id"], u["id"], "snooze_1d")))
    assert r.status_code == 200
    [after] = logs(id=row["id"])
    assert after["snoozed_until"] is not None
    [ev] = events(kind="snooze", target_user_id=u["id"], status="pending")
    assert abs((ev["scheduled_for"] - after["snoozed_until"]).total_seconds()) < 1


def test_expired_link_is_refused(app):
    u = make_user()
    row = _delivered(u)
    old = time.time() - signing.DEFAULT_MAX_AGE_S - 60
    token = signing.sign(LINK_PURPOSE_ACTION, {"l": row["id"], "u": u["id"], "a": "acknowledge"}, issued_at=old)
    with TestClient(app) as anon:
        r = anon.post(f"/sag/reminder-links/action/{token}")
    assert r.status_code == 410 and "expired" in r.text
    assert logs(id=row["id"])[0]["acknowledged_at"] is None


def test_tampered_or_wrong_purpose_link_is_refused(app):
    u = make_user()
    row = _delivered(u)
    token = action_link(row["id"], u["id"], "acknowledge").rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    open_token = open_link(row["id"], u["id"]).rsplit("/", 1)[1]
    with TestClient(app) as anon:
        assert anon.post(f"/sag/reminder-links/action/{forged}").status_code == 400
        assert anon.post(f"/sag/reminder-links/action/{open_token}").status_code == 400
        assert anon.get("/sag/reminder-links/open/not-a-token").status_code == 400
        assert anon.get("/sag/reminder-links/open/" + "x" * 5000).status_code in (400, 414)
    assert logs(id=row["id"])[0]["acknowledged_at"] is None


def test_other_users_link_is_refused(app):
    owner, other = make_user(), make_user()
    row = _delivered(owner)
    # signed in as someone else
    with TestClient(app) as browser:
        login(browser, other)
        r = browser.post(_path(action_link(row["id"], owner["id"], "acknowledge")))
        assert r.status_code == 403
        assert browser.get(_path(open_link(row["id"], owner["id"])), follow_redirects=False).status_code == 403
    # a validly signed token whose user does not own the row
    token = signing.sign(LINK_PURPOSE_ACTION, {"l": row["id"], "u": other["id"], "a": "acknowledge"})
    with TestClient(app) as anon:
        assert anon.post(f"/sag/reminder-links/action/{token}").status_code == 404
    [after] = logs(id=row["id"])
    assert after["acknowledged_at"] is None and after["clicked_at"] is None


def test_refused_link_page_says_why(app):
    with TestClient(app) as anon:
        r = anon.get("/sag/reminder-links/action/not-a-token")
    assert r.status_code == 400
    assert "This link cannot be used" in r.text and '<p id="actionResult">This link is not valid.</p>' in r.text


def test_a_summary_cannot_be_snoozed_from_its_link(app):
    u = make_user()
    row = _delivered(u)
    # A summary's log row belongs to no rule.
    database.execute_update("UPDATE sag_reminder_logs SET rule_id = NULL WHERE id = %s", (row["id"],))
    with TestClient(app) as anon:
        r = anon.post(_path(action_link(row["id"], u["id"], "snooze_1h")))
    assert r.status_code == 409 and "This notice is a summary and cannot be snoozed." in r.text
    assert logs(id=row["id"])[0]["snoozed_until"] is None
