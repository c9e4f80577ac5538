"""Watchers: who watches automatically, Watch/Unwatch (API and page), and the `watch` notifications."""

from __future__ import annotations

from app.core import database
from app.modules.sag.conversation.tests.mentions_helpers import (
    add_note,
    drain,
    notifications,
    overrides,
    set_status_as,
)
from app.modules.sag.reminders.tests.reminders_helpers import clear_queue, logs, make_case, make_rule
from tests.fixtures import login, make_user


def _watching(case_id: int) -> dict[int, bool]:
    return {r["user_id"]: not r["unwatched"] for r in database.execute_query(
        "SELECT user_id, unwatched FROM sag_watchers WHERE sag_id = %s", (case_id,))}


def test_creator_assignee_and_note_authors_watch_automatically(app):
    creator, assignee, writer, later = make_user(), make_user(), make_user(), make_user()
    case = make_case(created_by=creator["id"], assigned_to=assignee["id"])
    add_note(case["id"], writer, "on it")
    database.execute_update("UPDATE sag_sager SET assigned_to = %s WHERE id = %s", (later["id"], case["id"]))
    assert _watching(case["id"]) == {creator["id"]: True, assignee["id"]: True, writer["id"]: True,
                                     later["id"]: True}


def test_an_unwatch_survives_the_automatic_paths(app, user_api):
    me = user_api.user
    case = make_case(created_by=me["id"])
    assert user_api.delete(f"/api/v1/sag/{case['id']}/watch").json() == {"watching": False, "count": 0}
    database.execute_update("UPDATE sag_sager SET assigned_to = %s WHERE id = %s", (me["id"], case["id"]))
    add_note(case["id"], me, "a note of mine")
    assert _watching(case["id"]) == {me["id"]: False}
    assert user_api.put(f"/api/v1/sag/{case['id']}/watch").json() == {"watching": True, "count": 1}


def test_watchers_api_lists_active_watchers_and_refuses_unknown_cases(app, user_api):
    other = make_user(full_name="Bo Watcher")
    case = make_case(created_by=other["id"])
    user_api.put(f"/api/v1/sag/{case['id']}/watch")
    listed = user_api.get(f"/api/v1/sag/{case['id']}/watchers").json()
    assert {(w["user_id"], w["reason"]) for w in listed} == {(other["id"], "creator"),
                                                             (user_api.user["id"], "manual")}
    assert user_api.get("/api/v1/sag/999999/watchers").status_code == 404
    assert user_api.put("/api/v1/sag/999999/watch").status_code == 404


def test_watch_api_needs_a_signed_in_user(app, anon_client):
    case = make_case()
    assert anon_client.put(f"/api/v1/sag/{case['id']}/watch").status_code == 401


def test_case_page_shows_watch_button_with_count_and_the_form_toggles_it(app, client):
    me = make_user()
    csrf = login(client, me)
    case = make_case(created_by=make_user()["id"])
    page = client.get(f"/sag/{case['id']}").text
    assert 'id="caseWatch"' in page and f'action="/sag/{case["id"]}/watch"' in page
    assert '<span class="badge text-bg-light ms-1" id="caseWatchCount" aria-label="watchers">1</span>' in page
    assert client.post(f"/sag/{case['id']}/watch", data={"csrf_token": "wrong"}).status_code == 403
    r = client.post(f"/sag/{case['id']}/watch", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/sag/{case['id']}").text
    assert f'action="/sag/{case["id"]}/unwatch"' in page and 'aria-label="watchers">2</span>' in page
    client.post(f"/sag/{case['id']}/unwatch", data={"csrf_token": csrf})
    assert _watching(case["id"])[me["id"]] is False


def test_watchers_get_new_notes_in_app_but_not_by_email_by_default(app):
    clear_queue()
    author, watcher = make_user(full_name="Sofie Hansen"), make_user()
    case = make_case(title="Server down", assigned_to=watcher["id"])
    add_note(case["id"], author, "Rebooted it")
    drain()
    rows = notifications("watch", case["id"])
    assert {(r["user_id"], r["channel"], r["status"]) for r in rows} == {
        (watcher["id"], "in_app", "sent"), (watcher["id"], "email", "suppressed")}
    assert rows[0]["title"] == f"Sofie Hansen wrote on #{case['id']}: Server down"


def test_the_watched_cases_override_turns_email_on(app):
    clear_queue()
    author, watcher = make_user(), make_user()
    overrides(watcher["id"], {"watch": {"email": True}})
    case = make_case(assigned_to=watcher["id"])
    add_note(case["id"], author, "Rebooted it")
    drain()
    assert {r["channel"]: r["status"] for r in notifications("watch", case["id"])} == {
        "in_app": "sent", "email": "sent"}


def test_a_note_reaches_each_watcher_once_not_the_author_and_not_who_it_mentions(app):
    clear_queue()
    author, watcher, mentioned = make_user(), make_user(), make_user()
    case = make_case(assigned_to=watcher["id"], created_by=mentioned["id"])
    add_note(case["id"], author, f"@{mentioned['username']} see this")
    drain()
    in_app = [(r["user_id"]) for r in notifications("watch", case["id"], channel="in_app")]
    assert in_app == [watcher["id"]]
    assert [r["user_id"] for r in notifications("mention", case["id"], channel="in_app")] == [mentioned["id"]]


def test_status_changes_reach_watchers_but_not_who_made_the_change(app):
    clear_queue()
    actor, watcher = make_user(), make_user(full_name="Wanda Watcher")
    case = make_case(title="VPN", created_by=actor["id"], assigned_to=watcher["id"])
    set_status_as(case["id"], actor, "in_progress")
    drain()
    rows = notifications("watch", case["id"], channel="in_app")
    assert [r["user_id"] for r in rows] == [watcher["id"]]
    assert rows[0]["title"].endswith("VPN: New → In progress") and actor["full_name"] in rows[0]["message"]


def test_a_status_change_rule_and_watching_do_not_notify_twice(app):
    clear_queue()
    watcher = make_user()
    case = make_case(assigned_to=watcher["id"])
    rule = make_rule(sag_id=case["id"], recipients={"assignee": True})
    set_status_as(case["id"], None, "in_progress")
    drain()
    assert [r["user_id"] for r in logs(rule_id=rule["id"])] == [watcher["id"]]
    assert notifications("watch", case["id"]) == []


def test_a_rule_can_notify_the_watchers(app, user_api):
    clear_queue()
    watcher = make_user()
    case = make_case()
    database.execute_update("INSERT INTO sag_watchers (sag_id, user_id, reason) VALUES (%s, %s, 'manual')",
                            (case["id"], watcher["id"]))
    r = user_api.post("/api/v1/sag/reminders/rules", json={
        "sag_id": case["id"], "name": "Tell the watchers", "trigger_type": "status_change",
        "trigger_config": {"from": "any", "to": "any"},
        "recipients": {"watchers": True}, "channels": ["in_app"], "title_template": "{{ case.title }} changed"})
    assert r.status_code == 201, r.text
    assert r.json()["recipients"]["watchers"] is True
    set_status_as(case["id"], None, "on_hold")
    drain()
    assert [x["user_id"] for x in logs(rule_id=r.json()["id"])] == [watcher["id"]]
    assert notifications("watch", case["id"]) == []  # the rule already told them


def test_a_rule_with_only_unchecked_recipients_is_refused(app, user_api):
    case = make_case()
    r = user_api.post("/api/v1/sag/reminders/rules", json={
        "sag_id": case["id"], "name": "Nobody", "trigger_type": "status_change",
        "trigger_config": {"from": "any", "to": "any"},
        "recipients": {"watchers": False}, "channels": ["in_app"], "title_template": "x"})
    assert r.status_code == 422 and "watchers" in r.text


def test_the_watch_kind_is_off_by_email_by_default_in_the_api_and_the_preferences_page(app, client):
    me = make_user()
    login(client, me)
    kinds = {k["key"]: k for k in client.get("/api/v1/notifications/kinds").json()}
    assert kinds["watch"] == {"key": "watch", "label": "Watched cases", "defaults": {"in_app": True, "email": False}}
    assert kinds["mention"]["label"] == "Mentions" and kinds["mention"]["defaults"] == {}
    page = client.get("/me/notifications").text
    watch_email = page.split('name="override_watch_email"')[1].split("</select>")[0]
    assert ">Default: never</option>" in watch_email
    mention_email = page.split('name="override_mention_email"')[1].split("</select>")[0]
    assert ">As above</option>" in mention_email
