"""The case list's `q` finds cases by the words of their notes (not deleted ones)."""

from app.core import database


def _found(api, q: str) -> list[int]:
    r = api.get("/api/v1/sag", params={"q": q, "page_size": 200})
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


def test_a_case_whose_note_mentions_toner_is_found(user_api, case):
    user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "Kunden mangler toner til HP-printeren"})
    assert case["id"] in _found(user_api, "toner")
    assert case["id"] in _found(user_api, "Toner")  # any case
    assert case["id"] in _found(user_api, "ton")    # a word prefix
    assert case["id"] in _found(user_api, "toner hp")  # every word, in any order
    assert case["id"] not in _found(user_api, "toner scanner")


def test_deleted_note_no_longer_finds_the_case(user_api, case):
    note = user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "Xylofonkabel byttet"}).json()
    assert case["id"] in _found(user_api, "xylofonkabel")
    user_api.delete(f"/api/v1/sag/{case['id']}/notes/{note['id']}")
    assert case["id"] not in _found(user_api, "xylofonkabel")


def test_edited_note_is_found_by_its_new_words(user_api, case):
    note = user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "Gammelord"}).json()
    user_api.patch(f"/api/v1/sag/{case['id']}/notes/{note['id']}", json={"body": "Nyord"})
    assert case["id"] in _found(user_api, "nyord") and case["id"] not in _found(user_api, "gammelord")


def test_title_search_still_matches_inside_words(user_api, case):
    assert case["id"] in _found(user_api, case["title"][3:10])


def test_search_text_with_query_syntax_is_harmless(user_api, case):
    user_api.post(f"/api/v1/sag/{case['id']}/notes", json={"body": "router & switch"})
    for q in ["a & | ! ( ) :*", "'", "\\", "wi_fi", "<->", "æøå"]:
        assert user_api.get("/api/v1/sag", params={"q": q}).status_code == 200


def test_notes_search_uses_the_index(user_api, case):
    """The notes part of the search is answerable by the GIN index (no per-row join)."""
    plan = database.execute_query(
        "EXPLAIN SELECT id FROM sag_sager s WHERE s.notes_search @@ to_tsquery('simple', 'toner:*')")
    text = " ".join(r["QUERY PLAN"] for r in plan)
    assert "sag_sager_notes_search_idx" in text or "Seq Scan" in text  # tiny tables may scan
    assert "sag_notes" not in text
