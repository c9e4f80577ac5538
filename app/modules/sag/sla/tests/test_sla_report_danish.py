"""The SLA report page in Danish: headings, Babel month names ("jan. 2026"), the chart's
state names (opfyldt, overskredet) and durations; the CSV keeps its English machine
column names; an English reader still sees English."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import database
from app.modules.sag.sla import businesstime, calendars
from tests.fixtures import login, make_user

CPH = ZoneInfo("Europe/Copenhagen")
PERIOD = {"from": "2026-01", "to": "2026-02"}


def _case(customer: int, created: datetime, answered_after_min: int) -> None:
    with database.transaction():
        case_id = database.execute_insert("INSERT INTO sag_sager (title, customer_id) VALUES ('Mail nede', %s) "
                                          "RETURNING id", (customer,))
        database.execute_update("UPDATE sag_sager SET status = 'in_progress' WHERE id = %s", (case_id,))
        ids = [r["id"] for r in database.execute_query(
            "SELECT id FROM sag_status_history WHERE sag_id = %s ORDER BY id", (case_id,))]
        for history_id, at in zip(ids, (created, created + timedelta(minutes=answered_after_min)), strict=True):
            database.execute_update("UPDATE sag_status_history SET changed_at = %s WHERE id = %s", (at, history_id))
        database.execute_update("UPDATE sag_sager SET created_at = %s WHERE id = %s", (created, case_id))
        database.execute_query("SELECT sag_sla_refresh(%s)", (case_id,))


@pytest.fixture(scope="module")
def data(app):
    calendars.create_calendar(calendars.CalendarIn(
        name="Døgnet rundt", country=None, weekly_hours={d: [{"start": "00:00", "end": "24:00"}]
                                                         for d in businesstime.WEEKDAYS}))
    database.execute_update("INSERT INTO sag_sla_policies (name, response_minutes, resolution_minutes) "
                            "VALUES ('Standard', 60, 240)")
    alfa = database.execute_insert("INSERT INTO customers (name) VALUES ('Alfa Revision') RETURNING id")
    _case(alfa, datetime(2026, 1, 5, 10, tzinfo=CPH), 30)  # answered in time
    _case(alfa, datetime(2026, 1, 6, 10, tzinfo=CPH), 90)  # answered late
    return alfa


def _reader(client, language: str):
    user = make_user("user", language=language)
    login(client, user)
    return client


def test_report_page_in_danish(client, data):
    html = _reader(client, "da").get("/sag/sla/report", params=PERIOD).text
    assert '<h1 class="h3 mb-0 me-auto">SLA-rapport</h1>' in html and ">Hent CSV<" in html
    assert "Fra måned" in html and ">Alle kunder<" in html and "<em>overskredet</em>" in html
    assert "SLA-frister opfyldt og overskredet pr. måned, jan. 2026 til feb. 2026" in html
    assert "jan. 2026: 2 sager, svar 1 opfyldt, 1 overskredet" in html  # the chart's description
    assert "jan. 2026, første svar: 1 opfyldt" in html  # a bar's tooltip
    assert ">opfyldt</text>" in html and ">overskredet</text>" in html and ">afventer</text>" in html  # legend
    assert '<th scope="col" class="text-end">Svar opfyldt</th>' in html
    assert "<td>jan. 2026</td><td>Alle kunder</td>" in html and "<td>feb. 2026</td>" in html
    assert "<td>1 t / 1 t 24 min</td>" in html  # median / p90 to first response: 60 and 84 working minutes


def test_report_csv_keeps_machine_column_names_in_danish(client, data):
    r = _reader(client, "da").get("/sag/sla/report.csv", params=PERIOD)
    assert r.text.startswith("month,customer_id,customer,cases,")


def test_report_page_stays_english_for_an_english_reader(client, data):
    html = _reader(client, "en").get("/sag/sla/report", params=PERIOD).text
    assert "SLA targets met and breached per month, Jan 2026 to Feb 2026" in html
    assert "<td>Jan 2026</td><td>All customers</td>" in html and "1 h / 1 h 24 m" in html and ">met</text>" in html
