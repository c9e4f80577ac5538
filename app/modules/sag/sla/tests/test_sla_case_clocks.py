"""The case page's SLA clocks: the partial in the side column and `GET /api/v1/sag/{id}/sla`
with each clock's state, the working seconds left counted on the calendar's open spans, and
"breached ... ago"; a case without a policy shows no clocks."""


import pytest

from app.core import database
from app.modules.sag.sla import businesstime, calendars

ALWAYS = [{"start": "00:00", "end": "24:00"}]


@pytest.fixture(scope="module")
def policy(app):
    calendars.create_calendar(calendars.CalendarIn(name="Always", country=None,
                                                   weekly_hours={d: ALWAYS for d in businesstime.WEEKDAYS}))
    pid = database.execute_insert("INSERT INTO sag_sla_policies (name, priority, response_minutes, "
                                  "resolution_minutes) VALUES ('Normal', 'normal', 60, 240) RETURNING id")
    database.execute_update("INSERT INTO sag_sla_pause_statuses (policy_id, status) VALUES (%s, 'on_hold')", (pid,))
    return pid


def _case(age_minutes: float = 0, priority: str = "normal", statuses: tuple[str, ...] = ()) -> int:
    with database.transaction():
        case_id = database.execute_insert("INSERT INTO sag_sager (title, priority) VALUES ('VPN', %s) RETURNING id",
                                          (priority,))
        database.execute_update("UPDATE sag_sager SET created_at = now() - make_interval(secs => %s) WHERE id = %s",
                                (age_minutes * 60, case_id))
        database.execute_update("UPDATE sag_status_history SET changed_at = now() - make_interval(secs => %s) "
                                "WHERE sag_id = %s", (age_minutes * 60, case_id))
        for status in statuses:
            database.execute_update("UPDATE sag_sager SET status = %s WHERE id = %s", (status, case_id))
        database.execute_query("SELECT sag_sla_refresh(%s)", (case_id,))
    return case_id


def _clocks(api, case_id: int) -> dict:
    r = api.get(f"/api/v1/sag/{case_id}/sla")
    assert r.status_code == 200, r.text
    body = r.json()
    return body | {"by_kind": {c["kind"]: c for c in body["clocks"]}}


def test_running_clocks_count_working_seconds_left_on_the_spans(user_api, policy):
    body = _clocks(user_api, _case(age_minutes=10))
    response, resolution = body["by_kind"]["response"], body["by_kind"]["resolution"]
    assert response["state"] == "ok" and response["running"]
    assert response["left_s"] == pytest.approx(50 * 60, abs=5)
    assert resolution["left_s"] == pytest.approx(230 * 60, abs=5)
    assert body["spans"] and body["refresh_s"] == 60


def test_states_warning_breached_paused_and_met(user_api, policy):
    warning = _clocks(user_api, _case(age_minutes=50))["by_kind"]["response"]
    assert warning["state"] == "warning"  # 75 % of 60 minutes used
    breached = _clocks(user_api, _case(age_minutes=95))["by_kind"]["response"]
    assert breached["state"] == "breached" and breached["over_s"] == pytest.approx(35 * 60, abs=5)
    paused = _clocks(user_api, _case(age_minutes=30, statuses=("on_hold",)))["by_kind"]
    assert paused["response"]["state"] == "met" and paused["resolution"]["state"] == "paused"
    assert paused["resolution"]["left_s"] == pytest.approx(210 * 60, abs=60)
    closed = _clocks(user_api, _case(age_minutes=30, statuses=("in_progress", "closed")))["by_kind"]
    assert closed["resolution"]["state"] == "met" and not closed["resolution"]["running"]


def test_case_page_shows_the_clocks_in_the_side_column(client, policy):
    from tests.fixtures import login, make_user

    login(client, make_user("user"))
    case_id = _case(age_minutes=10)
    html = client.get(f"/sag/{case_id}").text
    assert 'id="slaClocks"' in html and 'data-sla-clock="response" data-state="ok"' in html
    assert 'data-sla-clock="resolution" data-state="ok"' in html and "working time left" in html
    assert 'src="/static/modules/sag/sla_clocks.js"' in html
    assert html.index('id="slaClocks"') > html.index('class="col-lg-4"')  # the side column


def test_cases_without_a_policy_show_no_clocks(client, user_api, policy):
    from tests.fixtures import login, make_user

    case_id = _case(priority="low")
    assert _clocks(user_api, case_id)["clocks"] == []
    login(client, make_user("user"))
    assert 'id="slaClocks"' not in client.get(f"/sag/{case_id}").text


def test_unknown_case_is_404_and_anonymous_is_401(user_api, anon_client, policy):
    assert user_api.get("/api/v1/sag/999999/sla").status_code == 404
    assert user_api.get("/api/v1/sag/0/sla").status_code == 422
    assert anon_client.get(f"/api/v1/sag/{_case()}/sla").status_code == 401
