"""The SLA report on a known data set: met and breached counts and the median / p90 working
minutes per month and customer (API, page table, CSV), the server-rendered SVG chart with a
hostile customer name escaped, CSV quoting, filters, refusals, and who may read it."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import database
from app.modules.sag.sla import businesstime, calendars
from tests.fixtures import login, make_user

CPH = ZoneInfo("Europe/Copenhagen")
HOSTILE = '<script>alert(1)</script> "Kaffe, & Co" =1+2'


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CPH)


def _case(customer: int, created: datetime, changes: list[tuple[int, str]]) -> int:
    """A case created at `created`, its status changes `minutes` after creation."""
    with database.transaction():
        case_id = database.execute_insert("INSERT INTO sag_sager (title, customer_id) VALUES ('Mail nede', %s) "
                                          "RETURNING id", (customer,))
        for _, status in changes:
            database.execute_update("UPDATE sag_sager SET status = %s WHERE id = %s", (status, case_id))
        times = [created] + [created + timedelta(minutes=m) for m, _ in changes]
        ids = [r["id"] for r in database.execute_query(
            "SELECT id FROM sag_status_history WHERE sag_id = %s ORDER BY id", (case_id,))]
        for history_id, at in zip(ids, times, strict=True):
            database.execute_update("UPDATE sag_status_history SET changed_at = %s WHERE id = %s", (at, history_id))
        database.execute_update("UPDATE sag_sager SET created_at = %s, closed_at = CASE WHEN closed_at IS NOT NULL "
                                "THEN %s END WHERE id = %s", (created, times[-1], case_id))
        database.execute_query("SELECT sag_sla_refresh(%s)", (case_id,))
    return case_id


@pytest.fixture(scope="module")
def data(app):
    """A round-the-clock calendar (working minutes = minutes), response 60 / resolution 240."""
    calendars.create_calendar(calendars.CalendarIn(
        name="Always", country=None, weekly_hours={d: [{"start": "00:00", "end": "24:00"}]
                                                   for d in businesstime.WEEKDAYS}))
    policy = database.execute_insert("INSERT INTO sag_sla_policies (name, response_minutes, resolution_minutes) "
                                     "VALUES ('Standard', 60, 240) RETURNING id")
    database.execute_update("INSERT INTO sag_sla_pause_statuses (policy_id, status) VALUES (%s, 'on_hold')", (policy,))
    alfa = database.execute_insert("INSERT INTO customers (name) VALUES ('Alfa Revision') RETURNING id")
    hostile = database.execute_insert("INSERT INTO customers (name) VALUES (%s) RETURNING id", (HOSTILE,))
    _case(alfa, local(2026, 1, 5, 10), [(30, "in_progress"), (200, "closed")])  # 30 met, 200 met
    _case(alfa, local(2026, 1, 6, 10), [(90, "in_progress"), (300, "closed")])  # 90 late, 300 late
    _case(alfa, local(2026, 1, 7, 10), [(10, "in_progress"), (60, "on_hold"), (180, "in_progress"),
                                        (300, "closed")])  # 10 met; 300 - 120 on hold = 180 met
    _case(hostile, local(2026, 1, 8, 10), [(20, "in_progress"), (100, "closed")])  # 20 met, 100 met
    _case(alfa, local(2026, 2, 2, 10), [(50, "in_progress"), (250, "closed")])  # 50 met, 250 late
    return {"alfa": alfa, "hostile": hostile}


@pytest.fixture
def staff(client, data):
    login(client, make_user("user"))
    return client


def _report(client, **params) -> dict:
    r = client.get("/api/v1/sag/sla/report", params={"from": "2026-01", "to": "2026-03", **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_report_counts_met_and_breached_per_month_and_customer(staff, data):
    body = _report(staff)
    jan, feb, mar = body["months"]
    assert (jan["month"], jan["cases"], jan["response_met"], jan["response_breached"]) == ("2026-01", 4, 3, 1)
    assert (jan["resolution_met"], jan["resolution_breached"], jan["resolution_pending"]) == (3, 1, 0)
    assert (feb["cases"], feb["response_met"], feb["resolution_breached"]) == (1, 1, 1)
    assert mar["cases"] == 0 and mar["response_median"] is None  # a month without cases is still shown
    alfa_jan = next(r for r in body["rows"] if r["month"] == "2026-01" and r["customer_id"] == data["alfa"])
    assert (alfa_jan["cases"], alfa_jan["response_breached"], alfa_jan["resolution_breached"]) == (3, 1, 1)
    assert body["total"]["cases"] == 5 and body["total"]["resolution_breached"] == 2


def test_report_gives_median_and_p90_working_minutes(staff, data):
    body = _report(staff)
    jan = body["months"][0]
    assert (jan["response_median"], jan["response_p90"]) == (25, 72)  # of 10, 20, 30, 90
    assert (jan["resolution_median"], jan["resolution_p90"]) == (190, 270)  # of 100, 180, 200, 300 (paused out)
    alfa_jan = next(r for r in body["rows"] if r["month"] == "2026-01" and r["customer_id"] == data["alfa"])
    assert (alfa_jan["response_median"], alfa_jan["response_p90"]) == (30, 78)
    assert (alfa_jan["resolution_median"], alfa_jan["resolution_p90"]) == (200, 280)


def test_report_filters_by_customer_and_period(staff, data):
    body = _report(staff, customer_id=data["hostile"])
    assert [m["cases"] for m in body["months"]] == [1, 0, 0]
    assert [r["customer_name"] for r in body["rows"]] == [HOSTILE]
    body = _report(staff, **{"from": "2026-02", "to": "2026-02"})
    assert [m["month"] for m in body["months"]] == ["2026-02"] and body["total"]["cases"] == 1


@pytest.mark.parametrize("params, field", [({"from": "2026-13"}, "from"), ({"to": "jan"}, "to"),
                                           ({"from": "2026-05", "to": "2026-01"}, "from"),
                                           ({"from": "2020-01", "to": "2026-01"}, "from")])
def test_bad_periods_are_refused_with_422(staff, params, field):
    for url in ("/api/v1/sag/sla/report", "/sag/sla/report", "/sag/sla/report.csv"):
        r = staff.get(url, params=params)
        assert r.status_code == 422, (url, r.text)
    assert field in staff.get("/api/v1/sag/sla/report", params=params).text


def test_report_page_shows_the_table_and_an_escaped_svg_chart(staff, data):
    r = staff.get("/sag/sla/report", params={"from": "2026-01", "to": "2026-02", "customer_id": data["hostile"]})
    assert r.status_code == 200
    html = r.text
    assert '<svg id="slaChart" role="img" aria-labelledby="slaChartTitle slaChartDesc"' in html
    assert '<title id="slaChartTitle">' in html and '<desc id="slaChartDesc">' in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<rect ") >= 3  # the month's two bars plus the legend
    r = staff.get("/sag/sla/report", params={"from": "2026-01", "to": "2026-02"})
    assert 'data-month="2026-01" data-customer="all"' in r.text and "1 h 12 m" in r.text  # the p90 of 72 minutes
    assert f'data-customer="{data["alfa"]}"' in r.text
    assert 'href="/sag/sla/report.csv?from=2026-01&amp;to=2026-02"' in r.text


def test_csv_has_a_header_quoting_and_a_file_name(staff, data):
    r = staff.get("/sag/sla/report.csv", params={"from": "2026-01", "to": "2026-02"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="sla-report-2026-01-2026-02.csv"'
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:4] == ["month", "customer_id", "customer", "cases"]
    hostile = next(row for row in rows if row[1] == str(data["hostile"]))
    assert hostile[2] == HOSTILE  # comma and quotes survive the round trip
    assert '"<script>alert(1)</script> ""Kaffe, & Co"" =1+2"' in r.text
    header = rows[0]
    month_total = next(dict(zip(header, row, strict=True)) for row in rows if row[0] == "2026-01" and row[1] == "")
    figures = (month_total["cases"], month_total["response_p90"], month_total["resolution_median"])
    assert figures == ("4", "72.0", "190.0")
    assert rows[-1][:4] == ["all", "", "All customers", "5"]


def test_csv_defuses_spreadsheet_formulas_in_names(staff, data):
    name = "=HYPERLINK(\"http://x\")"
    customer = database.execute_insert("INSERT INTO customers (name) VALUES (%s) RETURNING id", (name,))
    _case(customer, local(2026, 3, 3, 10), [(5, "in_progress")])
    r = staff.get("/sag/sla/report.csv", params={"from": "2026-03", "to": "2026-03"})
    row = next(row for row in csv.reader(io.StringIO(r.text)) if row[1] == str(customer))
    assert row[2] == "'" + name


def test_anonymous_visitors_are_sent_to_sign_in(anon_client, data):
    for url in ("/sag/sla/report", "/sag/sla/report.csv"):
        r = anon_client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert anon_client.get("/api/v1/sag/sla/report").status_code == 401


def test_staff_read_the_report_and_admins_find_it_in_the_menu(client, data):
    login(client, make_user("user"))
    assert client.get("/sag/sla/report").status_code == 200
    assert 'href="/sag/sla/report"' not in client.get("/").text  # the admin menu is for admins
    assert 'href="/sag/sla/report"' in client.get("/sag").text  # staff find it on the case list
    client.cookies.clear()
    login(client, make_user("admin"))
    assert 'href="/sag/sla/report"' in client.get("/").text
