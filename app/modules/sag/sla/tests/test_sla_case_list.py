"""The case list by SLA: the `sla_state` filter and the SLA sort of the API, and the list
page's filter and badges ("3 h 30 m working time left", "breached 35 m ago")."""

from datetime import UTC, datetime, timedelta

import pytest

from app.core import database
from app.modules.sag.sla import businesstime, calendars
from tests.fixtures import login, make_user

ROUND_THE_CLOCK = [{"start": "00:00", "end": "24:00"}]


@pytest.fixture(scope="module")
def customer(app) -> int:
    """A customer on a round-the-clock calendar with a 60/240-minute policy."""
    always = calendars.create_calendar(calendars.CalendarIn(
        name="Always", country=None, weekly_hours={d: ROUND_THE_CLOCK for d in businesstime.WEEKDAYS}))
    customer_id = database.execute_insert("INSERT INTO customers (name) VALUES ('Døgnvagt A/S') RETURNING id")
    calendars.set_customer_calendar(customer_id, always["id"])
    database.execute_insert("INSERT INTO sag_sla_policies (name, customer_id, response_minutes, resolution_minutes) "
                            "VALUES ('Døgn', %s, 60, 240) RETURNING id", (customer_id,))
    return customer_id


def _case(api, customer_id: int, title: str, minutes_ago: float, responded_ago: float | None = None) -> int:
    """A case created `minutes_ago` (answered `responded_ago`), back-dated and its clock recomputed."""
    r = api.post("/api/v1/sag", json={"title": title, "customer_id": customer_id})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    now = datetime.now(UTC)
    if responded_ago is not None:
        assert api.post(f"/api/v1/sag/{case_id}/status", json={"status": "in_progress"}).status_code == 200
    with database.transaction():
        database.execute_update("UPDATE sag_sager SET created_at = %s WHERE id = %s",
                                (now - timedelta(minutes=minutes_ago), case_id))
        database.execute_update("UPDATE sag_status_history SET changed_at = %s WHERE sag_id = %s AND from_status "
                                "IS NULL", (now - timedelta(minutes=minutes_ago), case_id))
        if responded_ago is not None:
            database.execute_update("UPDATE sag_status_history SET changed_at = %s WHERE sag_id = %s AND "
                                    "from_status = 'new'", (now - timedelta(minutes=responded_ago), case_id))
        database.execute_query("SELECT sag_sla_refresh(%s)", (case_id,))
    return case_id


def test_filter_and_sort_by_sla_state(user_api, customer):
    # A few seconds of slack in the ages, so rounding to whole minutes is stable.
    running = _case(user_api, customer, "Backup failed", 30 - 1 / 3, 20)
    late = _case(user_api, customer, "Mail down", 95 - 1 / 3)
    r = user_api.get("/api/v1/sag", params={"sla_state": "breached", "customer_id": customer})
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()["items"]] == [late]
    r = user_api.get("/api/v1/sag", params=[("sla_state", "ok"), ("sla_state", "warning"), ("customer_id", customer)])
    assert [c["id"] for c in r.json()["items"]] == [running]
    items = user_api.get("/api/v1/sag", params={"sort": "sla", "customer_id": customer}).json()["items"]
    assert [c["id"] for c in items][:2] == [late, running]  # the response due time of `late` is the earliest
    assert items[1]["sla_minutes_left"] == 210 and items[0]["sla_breached_minutes_ago"] == 35


def test_unknown_sla_state_is_422(user_api):
    r = user_api.get("/api/v1/sag", params={"sla_state": "late"})
    assert r.status_code == 422 and "sla_state" in r.text


def test_list_page_shows_sla_badges_and_filters_by_state(client, user_api, customer):
    running = _case(user_api, customer, "Firewall update", 30 - 1 / 3, 20)
    late = _case(user_api, customer, "VPN down", 95 - 1 / 3)
    login(client, make_user("user"))
    page = client.get("/sag", params={"state": "all", "assignee": "any", "customer_id": customer, "sort": "sla"})
    assert page.status_code == 200
    assert 'data-sla="ok">3 h 30 m working time left</span>' in page.text
    assert 'data-sla="breached">breached 35 m ago</span>' in page.text
    assert '<option value="breached" >Breached</option>' in page.text
    page = client.get("/sag", params={"state": "all", "assignee": "any", "customer_id": customer, "sla": "breached"})
    assert f'data-case-id="{late}"' in page.text and f'data-case-id="{running}"' not in page.text
    assert '<option value="breached" selected>Breached</option>' in page.text
