"""One truth about who created a case: details, history/timeline and API name the same person,
whatever path set created_by (the demo, a script acting as someone else, the API)."""

from app.core import database
from app.modules.sag.cases import demo as cases_demo
from tests.fixtures import make_user


def _creator_everywhere(api, case_id: int) -> set:
    case = api.get(f"/api/v1/sag/{case_id}").json()
    pages = api.get(f"/api/v1/sag/{case_id}/timeline").json()["pages"]
    oldest = api.get(f"/api/v1/sag/{case_id}/timeline", params={"page": pages}).json()["items"]
    timeline_created = [e for e in oldest if e["kind"] == "created"]
    return {case["created_by"], case["history"][0]["changed_by"], timeline_created[0]["actor_id"]}


def test_explicit_created_by_wins_over_the_acting_user(user_api):
    creator, actor = make_user(), make_user()
    with database.acting_user(actor["id"]), database.transaction():
        case_id = database.execute_insert(
            "INSERT INTO sag_sager (title, created_by) VALUES ('Importeret sag', %s) RETURNING id", (creator["id"],))
    assert _creator_everywhere(user_api, case_id) == {creator["id"]}


def test_acting_user_is_the_creator_when_none_is_given(user_api):
    actor = make_user()
    with database.acting_user(actor["id"]), database.transaction():
        case_id = database.execute_insert("INSERT INTO sag_sager (title) VALUES ('Ny sag') RETURNING id")
    assert _creator_everywhere(user_api, case_id) == {actor["id"]}


def test_api_created_case_agrees(user_api):
    case_id = user_api.post("/api/v1/sag", json={"title": "Fra API"}).json()["id"]
    assert _creator_everywhere(user_api, case_id) == {user_api.user["id"]}


def test_demo_cases_name_one_creator_in_details_history_and_timeline(user_api):
    users = [make_user(username=name, full_name=f"Demo {name}") for name in cases_demo.DEMO_USERNAMES
             if not database.execute_query("SELECT 1 FROM users WHERE username = %s", (name,))]
    assert cases_demo.demo_cases(count=12, seed=5) == 12
    disagreeing = database.execute_query(
        "SELECT s.id FROM sag_sager s JOIN sag_status_history h ON h.sag_id = s.id AND h.from_status IS NULL "
        "WHERE s.created_by = ANY(%s) AND h.changed_by IS DISTINCT FROM s.created_by", ([u["id"] for u in users],))
    assert disagreeing == []
    for case in database.execute_query("SELECT id, created_by FROM sag_sager WHERE created_by = ANY(%s) "
                                       "ORDER BY id LIMIT 5", ([u["id"] for u in users],)):
        assert _creator_everywhere(user_api, case["id"]) == {case["created_by"]}
