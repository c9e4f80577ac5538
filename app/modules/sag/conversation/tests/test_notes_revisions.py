"""Every edit keeps the text the note had before it, with who edited and when."""

from app.core import database
from app.modules.sag.conversation import notes
from tests.fixtures import make_user


def test_each_edit_keeps_the_earlier_text(user_api, case):
    url = f"/api/v1/sag/{case['id']}/notes"
    note = user_api.post(url, json={"body": "v1"}).json()
    user_api.patch(f"{url}/{note['id']}", json={"body": "v2"})
    user_api.patch(f"{url}/{note['id']}", json={"body": "v3"})
    revisions = user_api.get(f"{url}/{note['id']}/revisions").json()
    assert [r["body"] for r in revisions] == ["v1", "v2"]
    assert all(r["edited_by"] == user_api.user["id"] for r in revisions)
    assert user_api.get(url).json()[0]["body"] == "v3"


def test_saving_the_same_text_is_no_edit(user_api, case):
    url = f"/api/v1/sag/{case['id']}/notes"
    note = user_api.post(url, json={"body": "uændret"}).json()
    r = user_api.patch(f"{url}/{note['id']}", json={"body": "uændret"})
    assert r.status_code == 200 and r.json()["edited_at"] is None
    assert user_api.get(f"{url}/{note['id']}/revisions").json() == []


def test_store_functions_work_in_the_callers_transaction(case):
    author = make_user()
    with database.transaction() as conn:
        added = notes.add_note(conn, case["id"], author["id"], "via mail", via="email")
        edited = notes.edit_note(conn, added["id"], author["id"], "via mail, rettet")
        assert edited["body"] == "via mail, rettet"
        assert [r["body"] for r in notes.revisions(conn, added["id"])] == ["via mail"]
        deleted = notes.delete_note(conn, added["id"], author["id"])
        assert deleted["deleted_by"] == author["id"]
    row = database.execute_query("SELECT via, deleted_at FROM sag_notes WHERE id = %s", (added["id"],))[0]
    assert row["via"] == "email" and row["deleted_at"] is not None


def test_revisions_of_a_deleted_note_are_not_shown(user_api, case):
    url = f"/api/v1/sag/{case['id']}/notes"
    note = user_api.post(url, json={"body": "a"}).json()
    user_api.patch(f"{url}/{note['id']}", json={"body": "b"})
    user_api.delete(f"{url}/{note['id']}")
    assert user_api.get(f"{url}/{note['id']}/revisions").json() == []
