"""The timeline: notes, status changes with their notes, assignments, deadline changes and reminders
sent, each with who and when, newest last, paginated from the newest."""

from datetime import timedelta

from app.core import database
from tests.fixtures import make_user


def _kinds(api, case_id, **params) -> list[str]:
    return [e["kind"] for e in api.get(f"/api/v1/sag/{case_id}/timeline", params=params).json()["items"]]


def test_timeline_has_every_kind_with_who_and_when_newest_last(user_api, case):
    colleague = make_user(full_name="Jonas Timeline")
    cid = case["id"]
    assert user_api.post(f"/api/v1/sag/{cid}/status", json={"status": "in_progress", "note": "Går i gang"}).is_success
    assert user_api.post(f"/api/v1/sag/{cid}/assign", json={"user_id": colleague["id"]}).is_success
    version = user_api.get(f"/api/v1/sag/{cid}").json()["version"]
    deadline = {"version": version, "deadline": "2030-03-01T10:00:00+00:00"}
    assert user_api.patch(f"/api/v1/sag/{cid}", json=deadline).is_success
    assert user_api.post(f"/api/v1/sag/{cid}/notes", json={"body": "Ringede til kunden"}).status_code == 201
    body = user_api.get(f"/api/v1/sag/{cid}/timeline").json()
    items = body["items"]
    assert [e["kind"] for e in items] == ["created", "status", "assignment", "deadline", "note"]
    assert body["total"] == 5 and body["pages"] == 1 and body["older_page"] is None
    me = user_api.user["full_name"]
    assert all(e["actor_name"] == me for e in items)
    assert items[1]["body"] == "Går i gang" and items[1]["to_key"] == "in_progress"
    assert items[2]["to_label"] == "Jonas Timeline" and items[2]["from_key"] is None
    assert items[3]["to_at"].startswith("2030-03-01T10:00:00")
    assert items[4]["body"] == "Ringede til kunden"
    assert [e["at"] for e in items] == sorted(e["at"] for e in items)


def test_unassigning_and_removing_the_deadline_are_recorded(user_api):
    from app.modules.sag.conversation.tests.conftest import new_case

    case = new_case(user_api, assigned_to=user_api.user["id"], deadline="2031-01-01T09:00:00+00:00")
    cid = case["id"]
    user_api.post(f"/api/v1/sag/{cid}/assign", json={"user_id": None})
    user_api.patch(f"/api/v1/sag/{cid}", json={"version": 2, "deadline": None})
    items = user_api.get(f"/api/v1/sag/{cid}/timeline").json()["items"]
    assignment, deadline = items[-2], items[-1]
    assert assignment["kind"] == "assignment" and assignment["to_key"] is None
    assert assignment["from_key"] == str(user_api.user["id"])
    assert deadline["kind"] == "deadline" and deadline["to_at"] is None and deadline["from_at"]


def test_a_deleted_note_says_who_deleted_it_without_its_text(user_api, case):
    note = user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "Kodeord: hemmeligt"}).json()
    user_api.delete(f"/api/v1/sag/{case['id']}/notes/{note['id']}")
    entry = user_api.get(f"/api/v1/sag/{case['id']}/timeline").json()["items"][-1]
    assert entry["kind"] == "note" and entry["body"] is None
    assert entry["deleted_by_name"] == user_api.user["full_name"] and entry["deleted_at"]


def test_reminders_sent_for_the_case_are_in_the_timeline(user_api, case):
    me = user_api.user
    event = database.execute_insert(
        "INSERT INTO sag_reminder_queue (sag_id, kind, status) VALUES (%s, 'rule', 'sent') RETURNING id", (case["id"],))
    for channel in ("in_app", "email"):
        database.execute_insert(
            "INSERT INTO sag_reminder_logs (event_id, sag_id, user_id, recipient, channel, status, title, sent_at) "
            "VALUES (%s, %s, %s, %s, %s, 'sent', 'Deadline i morgen', now())",
            (event, case["id"], me["id"], f"u:{me['id']}", channel))
    # Held back or failed deliveries were not sent: not in the timeline.
    other = database.execute_insert(
        "INSERT INTO sag_reminder_queue (sag_id, kind, status) VALUES (%s, 'rule', 'sent') RETURNING id", (case["id"],))
    database.execute_insert(
        "INSERT INTO sag_reminder_logs (event_id, sag_id, user_id, recipient, channel, status, title) "
        "VALUES (%s, %s, %s, %s, 'in_app', 'rate_limited', 'Holdt tilbage')",
        (other, case["id"], me["id"], f"u:{me['id']}"))
    entries = [e for e in user_api.get(f"/api/v1/sag/{case['id']}/timeline").json()["items"] if e["kind"] == "reminder"]
    assert len(entries) == 1
    assert entries[0]["body"] == "Deadline i morgen" and entries[0]["recipients"] == [me["full_name"]]
    assert sorted(entries[0]["channels"]) == ["email", "in_app"]


def test_long_timelines_come_in_pages_from_the_newest(user_api, case):
    cid = case["id"]
    author = user_api.user["id"]
    base = database.execute_query("SELECT created_at FROM sag_sager WHERE id = %s", (cid,))[0]["created_at"]
    for i in range(12):
        database.execute_insert(
            "INSERT INTO sag_notes (sag_id, author_id, body, created_at) VALUES (%s, %s, %s, %s)",
            (cid, author, f"note {i}", base + timedelta(minutes=i + 1)))
    first = user_api.get(f"/api/v1/sag/{cid}/timeline", params={"page_size": 5}).json()
    assert [e["body"] for e in first["items"]] == [f"note {i}" for i in range(7, 12)]
    assert first["total"] == 13 and first["pages"] == 3 and first["older_page"] == 2
    last = user_api.get(f"/api/v1/sag/{cid}/timeline", params={"page_size": 5, "page": 3}).json()
    assert [e["kind"] for e in last["items"]] == ["created", "note", "note"]
    assert last["older_page"] is None and last["newer_page"] == 2


def test_bad_paging_is_a_clear_422(user_api, case):
    assert user_api.get(f"/api/v1/sag/{case['id']}/timeline", params={"page": 0}).status_code == 422
    assert user_api.get(f"/api/v1/sag/{case['id']}/timeline", params={"page_size": 1000}).status_code == 422
