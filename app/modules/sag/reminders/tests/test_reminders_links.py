"""Signed action links from e-mails: work without a session, refuse expired, tampered and foreign ones."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from app.core import database, signing
from app.modules.sag.reminders.email import (
    LINK_PURPOSE_ACTION,
    LINK_PURPOSE_MAIL,
    LINK_PURPOSE_OPEN,
    LINK_PURPOSE_UNSUBSCRIBE,
    action_link,
    mail_token,
    open_link,
)
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


def test_every_link_of_an_email_shares_its_one_token(app):
    u = make_user()
    row = _delivered(u)
    token = mail_token(row["id"], u["id"])
    assert signing.unsign(LINK_PURPOSE_MAIL, token) == {"l": row["id"], "u": u["id"]}
    assert open_link(row["id"], u["id"]).endswith(f"/sag/reminder-links/open/{token}")
    assert action_link(row["id"], u["id"], "snooze_1h").endswith(f"/sag/reminder-links/action/{token}/snooze_1h")


def test_links_of_emails_sent_before_one_token_per_email_keep_working(app):
    # Then each link had its own token: the open link's, and each action's with the action inside.
    u = make_user()
    row = _delivered(u)
    opened = signing.sign(LINK_PURPOSE_OPEN, {"l": row["id"], "u": u["id"]})
    acknowledge = signing.sign(LINK_PURPOSE_ACTION, {"l": row["id"], "u": u["id"], "a": "acknowledge"})
    with TestClient(app) as anon:
        r = anon.get(f"/sag/reminder-links/open/{opened}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/sag/{row['sag_id']}"
        page = anon.get(f"/sag/reminder-links/action/{acknowledge}")
        assert page.status_code == 200 and "Acknowledge this reminder" in page.text
        assert logs(id=row["id"])[0]["acknowledged_at"] is None
        done = anon.post(f"/sag/reminder-links/action/{acknowledge}")
    assert done.status_code == 200 and "Acknowledged" in done.text
    [after] = logs(id=row["id"])
    assert after["acknowledged_at"] is not None and after["clicked_at"] is not None


def test_expired_link_is_refused(app):
    u = make_user()
    row = _delivered(u)
    old = time.time() - signing.DEFAULT_MAX_AGE_S - 60
    token = signing.sign(LINK_PURPOSE_MAIL, {"l": row["id"], "u": u["id"]}, issued_at=old)
    earlier = signing.sign(LINK_PURPOSE_ACTION, {"l": row["id"], "u": u["id"], "a": "acknowledge"}, issued_at=old)
    with TestClient(app) as anon:
        for path in (f"/sag/reminder-links/action/{token}/acknowledge", f"/sag/reminder-links/action/{earlier}"):
            r = anon.post(path)
            assert r.status_code == 410 and "expired" in r.text
        assert anon.get(f"/sag/reminder-links/open/{token}", follow_redirects=False).status_code == 410
    [after] = logs(id=row["id"])
    assert after["acknowledged_at"] is None and after["clicked_at"] is None


def test_tampered_or_wrong_purpose_link_is_refused(app):
    u = make_user()
    row = _delivered(u)
    token = mail_token(row["id"], u["id"])
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    ids = {"l": row["id"], "u": u["id"]}
    earlier_open = signing.sign(LINK_PURPOSE_OPEN, ids)
    earlier_action = signing.sign(LINK_PURPOSE_ACTION, dict(ids, a="acknowledge"))
    unsubscribe = signing.sign(LINK_PURPOSE_UNSUBSCRIBE, ids)
    with TestClient(app) as anon:
        assert anon.post(f"/sag/reminder-links/action/{forged}/acknowledge").status_code == 400
        assert anon.get(f"/sag/reminder-links/open/{forged}").status_code == 400
        # Made for another purpose: an earlier open link, an unsubscribe link.
        assert anon.post(f"/sag/reminder-links/action/{earlier_open}/acknowledge").status_code == 400
        assert anon.post(f"/sag/reminder-links/action/{earlier_open}").status_code == 400
        assert anon.post(f"/sag/reminder-links/action/{unsubscribe}/acknowledge").status_code == 400
        assert anon.get(f"/sag/reminder-links/open/{unsubscribe}").status_code == 400
        # An e-mail's token names no action by itself; an earlier action token is used as it is.
        assert anon.post(f"/sag/reminder-links/action/{token}").status_code == 400
        assert anon.post(f"/sag/reminder-links/action/{earlier_action}/snooze_1d").status_code == 400
        assert anon.get(f"/sag/reminder-links/action/{token}/delete").status_code == 400
        assert anon.get("/sag/reminder-links/open/not-a-token").status_code == 400
        assert anon.get("/sag/reminder-links/open/" + "x" * 5000).status_code in (400, 414)
    [after] = logs(id=row["id"])
    assert after["acknowledged_at"] is None and after["snoozed_until"] is None and after["clicked_at"] is None


def test_other_users_link_is_refused(app):
    owner, other = make_user(), make_user()
    row = _delivered(owner)
    # signed in as someone else
    with TestClient(app) as browser:
        login(browser, other)
        r = browser.post(_path(action_link(row["id"], owner["id"], "acknowledge")))
        assert r.status_code == 403
        assert browser.get(_path(open_link(row["id"], owner["id"])), follow_redirects=False).status_code == 403
    # a validly signed token whose user does not own the row (of either format)
    token = mail_token(row["id"], other["id"])
    earlier = signing.sign(LINK_PURPOSE_ACTION, {"l": row["id"], "u": other["id"], "a": "acknowledge"})
    with TestClient(app) as anon:
        assert anon.post(f"/sag/reminder-links/action/{token}/acknowledge").status_code == 404
        assert anon.post(f"/sag/reminder-links/action/{earlier}").status_code == 404
        assert anon.get(f"/sag/reminder-links/open/{token}", follow_redirects=False).status_code == 404
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
