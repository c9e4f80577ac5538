"""Notes API: add, list, edit, delete; bad input is a clear 4xx and writes nothing."""

from app.core import database


def test_add_note_returns_it_with_author_and_location(user_api, case):
    r = user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "Skiftede toner i\nprinteren"})
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["body"] == "Skiftede toner i\nprinteren" and note["via"] == "api"
    assert note["author_id"] == user_api.user["id"] and note["author_name"] == user_api.user["full_name"]
    assert note["body_html"] == "Skiftede toner i<br>\nprinteren"
    assert r.headers["location"] == f"/api/v1/sag/{case['id']}/notes/{note['id']}"
    listed = user_api.get(f"/api/v1/sag/{case['id']}/notes").json()
    assert [n["id"] for n in listed] == [note["id"]]


def test_notes_are_listed_oldest_first(user_api, case):
    ids = [user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": f"note {i}"}).json()["id"]
           for i in range(3)]
    assert [n["id"] for n in user_api.get(f"/api/v1/sag/{case['id']}/notes").json()] == ids


def test_blank_note_is_refused_with_422(user_api, case):
    r = user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "   \n "})
    assert r.status_code == 422 and "must not be blank" in r.text
    assert user_api.get(f"/api/v1/sag/{case['id']}/notes").json() == []


def test_note_longer_than_20000_characters_is_refused(user_api, case):
    assert user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "x" * 20_001}).status_code == 422
    r = user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "x" * 20_000})
    assert r.status_code == 201 and len(r.json()["body"]) == 20_000


def test_note_with_nul_character_is_refused(user_api, case):
    r = user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "a\x00b"})
    assert r.status_code == 422 and "NUL" in r.text


def test_unknown_field_is_refused(user_api, case):
    r = user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "ok", "author_id": 1})
    assert r.status_code == 422


def test_note_on_missing_case_is_404(user_api):
    assert user_api.post("/api/v1/sag/99999999/notes", json={"body": "hej"}).status_code == 404
    assert user_api.get("/api/v1/sag/99999999/notes").status_code == 404
    assert user_api.get("/api/v1/sag/99999999/timeline").status_code == 404


def test_edit_changes_the_body_and_marks_it_edited(user_api, case):
    note = user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "Første udkast"}).json()
    r = user_api.patch(f"/api/v1/sag/{case['id']}/notes/{note['id']}", json={"body": "Rettet tekst"})
    assert r.status_code == 200, r.text
    assert r.json()["body"] == "Rettet tekst" and r.json()["edited_at"] is not None
    assert r.json()["edited_by"] == user_api.user["id"] and r.json()["revision_count"] == 1


def test_note_of_another_case_is_not_found_under_this_case(user_api, case):
    from app.modules.sag.conversation.tests.conftest import new_case

    other = new_case(user_api)
    note = user_api.post(f"/api/v1/sag/{other['id']}/notes", json={"body": "andet"}).json()
    assert user_api.patch(f"/api/v1/sag/{case['id']}/notes/{note['id']}", json={"body": "x"}).status_code == 404
    assert user_api.delete(f"/api/v1/sag/{case['id']}/notes/{note['id']}").status_code == 404


def test_delete_is_soft_and_hides_the_body(user_api, case):
    note = user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "Hemmelig kode 1234"}).json()
    assert user_api.delete(f"/api/v1/sag/{case['id']}/notes/{note['id']}").status_code == 204
    listed = user_api.get(f"/api/v1/sag/{case['id']}/notes").json()
    assert listed[0]["body"] is None and listed[0]["body_html"] is None
    assert listed[0]["deleted_by"] == user_api.user["id"] and listed[0]["deleted_at"]
    # Still in the table (soft), so the timeline can say who deleted it.
    assert database.execute_query("SELECT body FROM sag_notes WHERE id = %s", (note["id"],))[0]["body"]


def test_deleted_note_cannot_be_edited_or_deleted_again(user_api, case):
    note = user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "væk"}).json()
    user_api.delete(f"/api/v1/sag/{case['id']}/notes/{note['id']}")
    assert user_api.patch(f"/api/v1/sag/{case['id']}/notes/{note['id']}", json={"body": "igen"}).status_code == 409
    assert user_api.delete(f"/api/v1/sag/{case['id']}/notes/{note['id']}").status_code == 409


def test_adding_a_note_bumps_updated_at_but_not_version(user_api, case):
    database.execute_update("UPDATE sag_sager SET updated_at = now() - interval '3 days' WHERE id = %s",
                            (case["id"],))
    before = user_api.get(f"/api/v1/sag/{case['id']}").json()
    user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "Kunden ringede"})
    after = user_api.get(f"/api/v1/sag/{case['id']}").json()
    assert after["updated_at"] > before["updated_at"]
    assert after["version"] == before["version"] and after["status"] == before["status"]
    assert len(after["history"]) == len(before["history"])


def test_deleting_a_case_with_notes_deletes_them(admin_api, user_api, case):
    user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "noget"})
    assert admin_api.delete(f"/api/v1/sag/{case['id']}").status_code == 204
    assert not database.execute_query("SELECT 1 FROM sag_notes WHERE sag_id = %s", (case["id"],))


def test_mention_candidates_match_username_and_name_prefixes(user_api):
    from tests.fixtures import make_user

    make_user(username="kirsten_nb", full_name="Kirsten Nørgaard Bach")
    make_user(username="kirsten_old", full_name="Kirsten Gammel", active=False)
    by_user = [u["username"] for u in user_api.get("/api/v1/sag/mention-candidates", params={"q": "kirs"}).json()]
    assert "kirsten_nb" in by_user and "kirsten_old" not in by_user
    by_last_name = user_api.get("/api/v1/sag/mention-candidates", params={"q": "nørg"}).json()
    assert [u["username"] for u in by_last_name] == ["kirsten_nb"]
    assert set(by_last_name[0]) == {"id", "username", "full_name"}
    assert len(user_api.get("/api/v1/sag/mention-candidates", params={"limit": 3}).json()) <= 3
    assert user_api.get("/api/v1/sag/mention-candidates", params={"q": "%"}).json() == []
