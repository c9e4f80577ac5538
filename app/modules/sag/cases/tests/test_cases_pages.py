"""Case pages with the demo data: list (default view, filters, highlights), case page, forms."""

import re

import pytest
from rich.progress import Progress

from app.core import database
from app.core import demo as core_demo
from app.modules.sag.backend import demo as demo_hook
from app.modules.sag.cases import demo
from tests.fixtures import login, make_user


@pytest.fixture(scope="module")
def demo_data(app):
    core_demo.demo_users()
    core_demo.demo_customers(12)
    with Progress(disable=True) as progress:
        task = progress.add_task("sag", total=None)
        demo_hook.run(progress, task)
    return database.execute_query("SELECT id, username FROM users WHERE username = 'lars'")[0]


@pytest.fixture
def lars(client, demo_data):
    user = {**demo_data, "password": core_demo.DEMO_PASSWORD}
    csrf = login(client, user)
    return {**user, "csrf": csrf}


def test_demo_creates_about_200_cases_in_every_status_with_history(demo_data):
    # The SLA demo adds one case per SLA state after these (sla/demo.py).
    rows = database.execute_query("SELECT status, count(*) AS n FROM sag_sager WHERE title NOT LIKE 'SLA demo:%%' "
                                  "GROUP BY status")
    by_status = {r["status"]: r["n"] for r in rows}
    assert sum(by_status.values()) == demo.DEMO_CASES
    assert set(by_status) == {"new", "in_progress", "waiting_customer", "on_hold", "resolved", "closed"}
    stats = database.execute_query("""
        SELECT count(*) FILTER (WHERE closed_at IS NULL AND deadline < now()) AS overdue,
               count(*) FILTER (WHERE closed_at IS NULL AND deadline BETWEEN now() AND now() + interval '1 day')
                   AS due_soon,
               count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM sag_status_history h WHERE h.sag_id = s.id))
                   AS without_history,
               count(DISTINCT customer_id) AS customers, count(DISTINCT assigned_to) AS assignees
        FROM sag_sager s""")[0]
    assert stats["overdue"] > 5 and stats["due_soon"] > 5
    assert stats["without_history"] == 0
    assert stats["customers"] > 5 and stats["assignees"] > 3
    # Backdated: the history tells a story over weeks, not a single instant.
    spread = database.execute_query(
        "SELECT max(changed_at) - min(changed_at) AS span FROM sag_status_history")[0]["span"]
    assert spread.days > 7


def test_demo_is_idempotent(demo_data):
    assert demo.demo_cases() == 0


def test_case_list_defaults_to_my_open_cases(client, lars):
    r = client.get("/sag")
    assert r.status_code == 200
    mine = database.execute_query(
        "SELECT count(*) AS n FROM sag_sager WHERE assigned_to = %s AND closed_at IS NULL", (lars["id"],))[0]["n"]
    assert f"{mine} case" in r.text
    assert 'aria-current="page" href="/sag?state=open&amp;assignee=me' in r.text
    shown = [int(x) for x in re.findall(r'data-case-id="(\d+)"', r.text)]
    assigned = {r["id"] for r in database.execute_query(
        "SELECT id FROM sag_sager WHERE assigned_to = %s AND closed_at IS NULL", (lars["id"],))}
    assert shown and set(shown) <= assigned


def test_case_list_highlights_overdue_cases(client, lars):
    r = client.get("/sag", params={"state": "open", "assignee": "any", "overdue": "1"})
    assert r.status_code == 200
    rows = re.findall(r'<tr class="([^"]*)" data-case-id="\d+"', r.text)
    assert rows and all("table-danger" in cls for cls in rows)


@pytest.mark.parametrize("params", [
    {"q": "printer"}, {"status": "waiting_customer", "assignee": "any"}, {"priority": "urgent"},
    {"state": "closed", "sort": "-deadline"}, {"assignee": "none"}, {"due": "24", "state": "open"},
    {"sort": "priority", "page": "2", "state": "all", "assignee": "any"},
])
def test_case_list_filters_render(client, lars, params):
    assert client.get("/sag", params=params).status_code == 200


def test_case_list_bad_filter_is_a_clear_4xx(client, lars):
    r = client.get("/sag", params={"status": "nonsense"})
    assert r.status_code == 422 and "Unknown status" in r.text


def test_case_page_shows_fields_history_and_controls(client, lars):
    case = database.execute_query(
        "SELECT id, title FROM sag_sager WHERE status = 'closed' ORDER BY id LIMIT 1")[0]
    r = client.get(f"/sag/{case['id']}")
    assert r.status_code == 200
    assert case["title"].replace("'", "&#39;") in r.text
    assert 'id="caseHistory"' in r.text and 'id="statusForm"' in r.text and 'id="assignForm"' in r.text
    assert r.text.count("list-group-item\">") >= 3 or "Closed" in r.text
    assert 'name="csrf_token" value="' + lars["csrf"] in r.text


def test_unknown_case_page_is_404(client, lars):
    assert client.get("/sag/99999999").status_code == 404


def test_create_form_creates_case_and_redirects(client, lars):
    customer = database.execute_query("SELECT id FROM customers ORDER BY id LIMIT 1")[0]["id"]
    r = client.get(f"/sag/new?customer_id={customer}")
    assert r.status_code == 200 and f'value="{customer}" selected' in r.text
    r = client.post("/sag/new", data={
        "csrf_token": lars["csrf"], "title": "Server genstarter om natten", "description": "<b>fed</b>",
        "customer_id": str(customer), "priority": "high", "status": "new", "assigned_to": "",
        "deadline": "2031-03-01T10:30"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    case_id = int(r.headers["location"].split("/")[2].split("?")[0])
    row = database.execute_query("SELECT * FROM sag_sager WHERE id = %s", (case_id,))[0]
    assert row["priority"] == "high" and row["assigned_to"] is None and row["created_by"] == lars["id"]
    page = client.get(f"/sag/{case_id}").text
    assert "&lt;b&gt;fed&lt;/b&gt;" in page


def test_create_form_shows_validation_messages(client, lars):
    r = client.post("/sag/new", data={"csrf_token": lars["csrf"], "title": "x" * 201, "priority": "normal",
                                      "status": "new", "customer_id": "987654"})
    assert r.status_code == 422
    assert "is-invalid" in r.text and "at most 200 characters" in r.text


def test_create_form_reports_unknown_customer(client, lars):
    r = client.post("/sag/new", data={"csrf_token": lars["csrf"], "title": "ok", "priority": "normal",
                                      "status": "new", "customer_id": "987654"})
    assert r.status_code == 422 and "Customer 987654 does not exist" in r.text


def test_form_post_without_csrf_is_refused(client, lars):
    r = client.post("/sag/new", data={"title": "no token"})
    assert r.status_code == 403


def test_edit_form_saves_and_detects_a_concurrent_change(client, lars):
    case = database.execute_query("SELECT id, version FROM sag_sager WHERE status = 'new' ORDER BY id LIMIT 1")[0]
    form = client.get(f"/sag/{case['id']}/edit")
    assert form.status_code == 200 and f'name="version" value="{case["version"]}"' in form.text
    # Someone else saves first.
    database.execute_update("UPDATE sag_sager SET title = 'Ændret af kollega' WHERE id = %s", (case["id"],))
    r = client.post(f"/sag/{case['id']}/edit", data={
        "csrf_token": lars["csrf"], "version": str(case["version"]), "title": "Min titel",
        "description": "", "priority": "normal", "customer_id": "", "assigned_to": "", "deadline": ""})
    assert r.status_code == 409
    assert 'id="conflictAlert"' in r.text and "Ændret af kollega" in r.text
    assert database.execute_query("SELECT title FROM sag_sager WHERE id = %s", (case["id"],))[0]["title"] \
        == "Ændret af kollega"
    # Saving again from the conflict form is a deliberate overwrite.
    new_version = re.search(r'name="version" value="(\d+)"', r.text).group(1)
    r = client.post(f"/sag/{case['id']}/edit", data={
        "csrf_token": lars["csrf"], "version": new_version, "title": "Min titel", "description": "",
        "priority": "normal", "customer_id": "", "assigned_to": "", "deadline": ""}, follow_redirects=False)
    assert r.status_code == 303
    assert database.execute_query("SELECT title FROM sag_sager WHERE id = %s", (case["id"],))[0]["title"] \
        == "Min titel"


def test_status_and_assign_forms(client, lars):
    case = database.execute_query("SELECT id, status FROM sag_sager WHERE status = 'new' ORDER BY id DESC LIMIT 1")[0]
    r = client.post(f"/sag/{case['id']}/status", data={
        "csrf_token": lars["csrf"], "status": "in_progress", "note": "Tager den", "expected_status": "new"},
        follow_redirects=False)
    assert r.status_code == 303
    entry = database.execute_query(
        "SELECT * FROM sag_status_history WHERE sag_id = %s ORDER BY id DESC LIMIT 1", (case["id"],))[0]
    assert (entry["to_status"], entry["changed_by"], entry["note"]) == ("in_progress", lars["id"], "Tager den")
    # A second click from the same (now stale) page is refused with an explanation.
    r = client.post(f"/sag/{case['id']}/status", data={
        "csrf_token": lars["csrf"], "status": "on_hold", "expected_status": "new"})
    assert r.status_code == 409 and 'id="caseError"' in r.text
    r = client.post(f"/sag/{case['id']}/assign", data={"csrf_token": lars["csrf"], "user_id": "me"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert database.execute_query("SELECT assigned_to FROM sag_sager WHERE id = %s",
                                  (case["id"],))[0]["assigned_to"] == lars["id"]


def test_customer_page_lists_the_customers_cases(client, lars):
    customer = database.execute_query("""
        SELECT customer_id, count(*) AS n FROM sag_sager WHERE customer_id IS NOT NULL AND closed_at IS NULL
        GROUP BY customer_id ORDER BY n DESC LIMIT 1""")[0]
    r = client.get(f"/customers/{customer['customer_id']}")
    assert r.status_code == 200
    assert 'id="customerCases"' in r.text and f"{customer['n']} open" in r.text
    assert f"/sag/new?customer_id={customer['customer_id']}" in r.text


def test_dashboard_shows_my_case_counts(client, lars):
    r = client.get("/")
    assert r.status_code == 200 and 'id="caseDashboard"' in r.text


def test_navigation_has_cases(client, lars):
    assert '<a class="nav-link' in client.get("/customers").text
    assert 'href="/sag">Cases</a>' in client.get("/customers").text


def test_pages_need_sign_in(anon_client):
    r = anon_client.get("/sag", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_normal_user_sees_everything_a_technician_needs(client):
    user = make_user()
    login(client, user)
    assert client.get("/sag").status_code == 200


def test_edit_form_keeps_a_deactivated_assignee(client, lars):
    leaver = make_user(full_name="Gammel Kollega")
    case_id = database.execute_insert("INSERT INTO sag_sager (title, assigned_to) VALUES ('Overdragelse', %s)",
                                      (leaver["id"],))
    database.execute_update("UPDATE users SET active = FALSE WHERE id = %s", (leaver["id"],))
    form = client.get(f"/sag/{case_id}/edit")
    assert f'value="{leaver["id"]}" selected>Gammel Kollega (deactivated)' in form.text
    r = client.post(f"/sag/{case_id}/edit", data={
        "csrf_token": lars["csrf"], "version": "1", "title": "Overdragelse af sager", "description": "",
        "priority": "normal", "customer_id": "", "assigned_to": str(leaver["id"]), "deadline": ""},
        follow_redirects=False)
    assert r.status_code == 303
    assert database.execute_query("SELECT assigned_to FROM sag_sager WHERE id = %s",
                                  (case_id,))[0]["assigned_to"] == leaver["id"]


def test_only_admins_delete_a_case_from_its_page(client):
    case_id = database.execute_insert("INSERT INTO sag_sager (title) VALUES ('Oprettet ved en fejl')")
    tech = make_user()
    login(client, tech)
    assert "/delete" not in client.get(f"/sag/{case_id}").text
    assert client.get(f"/sag/{case_id}/delete").status_code == 403
    admin = make_user("admin")
    csrf = login(client, admin)
    assert f'href="/sag/{case_id}/delete"' in client.get(f"/sag/{case_id}").text
    assert "Delete case #" in client.get(f"/sag/{case_id}/delete").text
    r = client.post(f"/sag/{case_id}/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sag?notice=deleted"
    assert not database.execute_query("SELECT 1 FROM sag_sager WHERE id = %s", (case_id,))
