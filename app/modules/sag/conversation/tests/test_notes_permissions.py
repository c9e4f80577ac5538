"""Who may edit and delete a note: its author or an admin; anyone else gets 403 and changes nothing."""

import pytest
from fastapi.testclient import TestClient

from app.core import database
from app.core.errors import Forbidden
from app.modules.sag.conversation import notes
from tests.fixtures import make_user, token_for


def _client(app, user) -> TestClient:
    c = TestClient(app, headers={"Authorization": f"Bearer {token_for(user)}"})
    c.user = user
    return c


def test_other_user_cannot_edit_or_delete_a_note(app, user_api, case):
    note = user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "Mit notat"}).json()
    with _client(app, make_user()) as other:
        r = other.patch(f"/api/v1/sag/{case['id']}/notes/{note['id']}", json={"body": "Ændret af en anden"})
        assert r.status_code == 403 and "author or an admin" in r.text
        assert other.delete(f"/api/v1/sag/{case['id']}/notes/{note['id']}").status_code == 403
    stored = database.execute_query("SELECT body, deleted_at FROM sag_notes WHERE id = %s", (note["id"],))[0]
    assert stored == {"body": "Mit notat", "deleted_at": None}
    assert not database.execute_query("SELECT 1 FROM sag_note_revisions WHERE note_id = %s", (note["id"],))


def test_other_user_may_read_and_add_notes(app, user_api, case):
    with _client(app, make_user()) as other:
        assert other.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "Jeg kigger på det"}).status_code == 201
        assert len(other.get(f"/api/v1/sag/{case['id']}/notes").json()) == 1


def test_admin_may_edit_and_delete_anyones_note(admin_api, user_api, case):
    note = user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "Forkert kunde"}).json()
    r = admin_api.patch(f"/api/v1/sag/{case['id']}/notes/{note['id']}", json={"body": "Rettet af admin"})
    assert r.status_code == 200 and r.json()["edited_by"] == admin_api.user["id"]
    assert admin_api.delete(f"/api/v1/sag/{case['id']}/notes/{note['id']}").status_code == 204


def test_deactivated_author_can_no_longer_edit(app, case):
    author = make_user()
    with _client(app, author) as c:
        note = c.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "Før jeg stoppede"}).json()
    database.execute_update("UPDATE users SET active = false WHERE id = %s", (author["id"],))
    with database.transaction() as conn, pytest.raises(Forbidden):
        notes.edit_note(conn, note["id"], author["id"], "efter")


def test_anonymous_requests_are_refused(anon_client, case):
    assert anon_client.get(f"/api/v1/sag/{case['id']}/notes").status_code == 401
    assert anon_client.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "x"}).status_code == 401
    assert anon_client.get(f"/api/v1/sag/{case['id']}/timeline").status_code == 401
    assert anon_client.get("/api/v1/sag/mention-candidates").status_code == 401
