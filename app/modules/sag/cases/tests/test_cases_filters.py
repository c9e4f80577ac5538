"""The case list API: every filter, sorting and pagination, on a known set of cases."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.core import database
from app.modules.sag.cases import listing as cases_list
from tests.fixtures import make_user, token_for

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def world(app):
    """Two users, two customers and eight cases with known attributes."""
    anna, bo = make_user(full_name="Anna Test"), make_user(full_name="Bo Test")
    cust = [database.execute_insert("INSERT INTO customers (name) VALUES (%s)", (n,))
            for n in ("Filter Kunde A", "Filter Kunde B")]
    spec = {
        # name: (title, description, customer, status, priority, assignee, creator, deadline)
        "overdue": ("Printer papirstop", "", cust[0], "in_progress", "high", anna, bo, NOW - timedelta(hours=5)),
        "due_soon": ("Certifikat udløber", "mailserver", cust[0], "new", "urgent", anna, anna,
                     NOW + timedelta(hours=3)),
        "later": ("Windows 11 opgradering", "", cust[1], "waiting_customer", "normal", anna, bo,
                  NOW + timedelta(days=9)),
        "unassigned": ("VPN falder ud", "Fortinet PRINTER-kø", cust[1], "new", "low", None, bo, None),
        "bo_hold": ("NAS svarer ikke", "disk 100% fuld", None, "on_hold", "normal", bo, anna, None),
        "closed_late": ("Backup fejlede", "", cust[0], "closed", "high", anna, anna, NOW - timedelta(days=3)),
        "resolved": ("Phishing mail", "", cust[1], "resolved", "urgent", bo, bo, NOW - timedelta(days=1)),
        "pct": ("Disk 100% fuld på C_drev", "", cust[1], "new", "normal", bo, anna, None),
    }
    ids = {}
    for name, (title, desc, customer, status, prio, assignee, creator, deadline) in spec.items():
        ids[name] = database.execute_insert(
            "INSERT INTO sag_sager (title, description, customer_id, status, priority, assigned_to, "
            "created_by, deadline) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (title, desc, customer, status, prio, assignee and assignee["id"], creator["id"], deadline))
    return {"anna": anna, "bo": bo, "cust": cust, "ids": ids}


@pytest.fixture(scope="module")
def anna_api(app, world):
    with TestClient(app, headers={"Authorization": f"Bearer {token_for(world['anna'])}"}) as c:
        yield c


def _names(world, api, **params) -> set[str]:
    r = api.get("/api/v1/sag", params={"page_size": 200, **params})
    assert r.status_code == 200, r.text
    by_id = {v: k for k, v in world["ids"].items()}
    return {by_id[c["id"]] for c in r.json()["items"]}


def test_no_filter_lists_everything(world, anna_api):
    assert _names(world, anna_api) == set(world["ids"])


def test_filter_by_status_single_and_repeated(world, anna_api):
    assert _names(world, anna_api, status="new") == {"due_soon", "unassigned", "pct"}
    assert _names(world, anna_api, status=["on_hold", "resolved"]) == {"bo_hold", "resolved"}


def test_filter_open_and_closed(world, anna_api):
    assert _names(world, anna_api, state="closed") == {"closed_late", "resolved"}
    assert _names(world, anna_api, state="open") == set(world["ids"]) - {"closed_late", "resolved"}


def test_filter_by_assignee_me_id_and_none(world, anna_api):
    assert _names(world, anna_api, assignee="me") == {"overdue", "due_soon", "later", "closed_late"}
    assert _names(world, anna_api, assignee=str(world["bo"]["id"])) == {"bo_hold", "resolved", "pct"}
    assert _names(world, anna_api, assignee="none") == {"unassigned"}
    assert _names(world, anna_api, assignee="any") == set(world["ids"])


def test_my_open_cases(world, anna_api):
    assert _names(world, anna_api, assignee="me", state="open") == {"overdue", "due_soon", "later"}


def test_filter_by_creator(world, anna_api):
    assert _names(world, anna_api, created_by="me") == {"due_soon", "bo_hold", "closed_late", "pct"}


def test_filter_by_customer(world, anna_api):
    assert _names(world, anna_api, customer_id=world["cust"][0]) == {"overdue", "due_soon", "closed_late"}


def test_filter_by_priority(world, anna_api):
    assert _names(world, anna_api, priority="urgent") == {"due_soon", "resolved"}
    assert _names(world, anna_api, priority=["low", "high"]) == {"overdue", "unassigned", "closed_late"}


def test_overdue_means_open_and_past_deadline(world, anna_api):
    assert _names(world, anna_api, overdue="true") == {"overdue"}
    assert "overdue" not in _names(world, anna_api, overdue="false")
    assert "closed_late" in _names(world, anna_api, overdue="false")


def test_due_within_hours(world, anna_api):
    assert _names(world, anna_api, due_within_hours=24) == {"due_soon"}
    assert _names(world, anna_api, due_within_hours=24 * 30) == {"due_soon", "later"}


def test_list_items_flag_overdue_and_due_soon(world, anna_api):
    items = {c["id"]: c for c in anna_api.get("/api/v1/sag", params={"page_size": 200}).json()["items"]}
    assert items[world["ids"]["overdue"]]["is_overdue"] is True
    assert items[world["ids"]["due_soon"]]["is_due_soon"] is True
    assert items[world["ids"]["closed_late"]]["is_overdue"] is False


def test_text_search_in_title_and_description_case_insensitive(world, anna_api):
    assert _names(world, anna_api, q="printer") == {"overdue", "unassigned"}
    assert _names(world, anna_api, q="MAILSERVER") == {"due_soon"}


def test_text_search_treats_wildcards_literally(world, anna_api):
    assert _names(world, anna_api, q="100%") == {"bo_hold", "pct"}
    assert _names(world, anna_api, q="C_d") == {"pct"}
    assert _names(world, anna_api, q="%") == {"bo_hold", "pct"}


def test_text_search_by_case_number(world, anna_api):
    assert "later" in _names(world, anna_api, q=f"#{world['ids']['later']}")


def test_filters_combine(world, anna_api):
    assert _names(world, anna_api, assignee="me", state="open", priority="high") == {"overdue"}
    assert _names(world, anna_api, customer_id=world["cust"][1], status="new", q="vpn") == {"unassigned"}


def test_sorting(world, anna_api):
    def order(sort, **params):
        by_id = {v: k for k, v in world["ids"].items()}
        r = anna_api.get("/api/v1/sag", params={"sort": sort, "page_size": 200, **params})
        return [by_id[c["id"]] for c in r.json()["items"]]

    assert order("deadline", assignee="me", state="open") == ["overdue", "due_soon", "later"]
    assert order("-deadline", assignee="me", state="open") == ["later", "due_soon", "overdue"]
    assert order("priority", status="new")[0] == "due_soon"
    assert order("-priority", status="new")[0] == "unassigned"
    assert order("title", assignee="me") == ["closed_late", "due_soon", "overdue", "later"]
    assert order("id") == sorted(world["ids"], key=world["ids"].get)
    assert order("status", assignee="me") == ["due_soon", "overdue", "later", "closed_late"]


def test_pagination(world, anna_api):
    first = anna_api.get("/api/v1/sag", params={"sort": "id", "page_size": 3}).json()
    assert first["total"] == 8 and first["pages"] == 3 and len(first["items"]) == 3
    third = anna_api.get("/api/v1/sag", params={"sort": "id", "page_size": 3, "page": 3}).json()
    assert len(third["items"]) == 2
    assert first["total_exact"] is True and first["has_next"] is True and third["has_next"] is False
    beyond = anna_api.get("/api/v1/sag", params={"sort": "id", "page_size": 3, "page": 9}).json()
    assert beyond["items"] == [] and beyond["total"] == 8


def test_counting_stops_at_the_cap(world, anna_api, monkeypatch):
    monkeypatch.setattr(cases_list, "COUNT_CAP", 5)
    r = anna_api.get("/api/v1/sag", params={"sort": "id", "page_size": 3, "page": 2}).json()
    assert (r["total"], r["total_exact"], r["pages"], r["has_next"]) == (5, False, 2, True)
    r = anna_api.get("/api/v1/sag", params={"sort": "id", "page_size": 3, "page": 3}).json()
    assert len(r["items"]) == 2 and r["has_next"] is False
    exact = anna_api.get("/api/v1/sag", params={"status": "new"}).json()
    assert (exact["total"], exact["total_exact"]) == (3, True)


@pytest.mark.parametrize("params", [
    {"status": "done"}, {"state": "half"}, {"assignee": "someone"}, {"priority": "critical"},
    {"sort": "customer"}, {"page": 0}, {"page_size": 1000}, {"customer_id": "abc"},
    {"overdue": "maybe"}, {"q": "x" * 201}, {"due_within_hours": 0},
])
def test_bad_list_parameters_are_422(world, anna_api, params):
    r = anna_api.get("/api/v1/sag", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]
