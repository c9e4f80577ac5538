"""The calendar pages in Danish: headings, weekday names (Babel), dates ("tirs. 1. dec."),
holiday names from the holidays package in Danish, and the admin menu entry; an English
reader still sees English."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.core import database
from app.modules.sag.sla import calendars
from tests.fixtures import login, make_user

DAY = [{"start": "08:00", "end": "12:00"}, {"start": "12:30", "end": "16:00"}]


@pytest.fixture(scope="module")
def calendar_id(app) -> int:
    database.execute_insert("INSERT INTO customers (name) VALUES ('Alfa Revision') RETURNING id")
    cal = calendars.create_calendar(calendars.CalendarIn(
        name="Kontor", country="DK", is_default=True,
        weekly_hours={d: DAY for d in ("mon", "tue", "wed", "thu", "fri")},
        closed_dates=[{"date": "2030-12-24", "note": "Juleaften"}]))
    return cal["id"]


def _reader(client, language: str):
    user = make_user("admin", language=language)
    login(client, user)
    return client


def _next_christmas() -> date:
    today = datetime.now(ZoneInfo("Europe/Copenhagen")).date()
    return date(today.year, 12, 25) if today <= date(today.year, 12, 25) else date(today.year + 1, 12, 25)


def test_calendar_list_in_danish(client, calendar_id):
    html = _reader(client, "da").get("/sag/calendars").text
    assert "<h1 class=\"h3 mb-0 me-auto\">Åbningstidskalendere</h1>" in html
    assert ">Ny kalender<" in html and "<th>Helligdage</th>" in html and "<th>Ugentlige åbningstider</th>" in html
    assert "standard</span>" in html
    assert "man. 08:00-12:00, 12:30-16:00; tirs. 08:00-12:00" in html  # Babel's short weekday names
    assert 'href="/sag/calendars">Åbningstidskalendere</a>' in html  # the admin menu


def test_calendar_editor_in_danish(client, calendar_id):
    html = _reader(client, "da").get(f"/sag/calendars/{calendar_id}").text
    assert '<label class="col-3 col-form-label col-form-label-sm" for="hours_mon">Mandag</label>' in html
    assert 'for="hours_sun">Søndag</label>' in html and ">Åbningstider</h2>" in html
    assert "Næste 14 dage" in html and ">Kommende helligdage<" in html and ">Lukkedage<" in html
    assert 'placeholder="lukket"' in html and 'placeholder="2026-12-24 Juleaften"' in html
    christmas = _next_christmas()
    assert "Juledag" in html and "Christmas Day" not in html  # the holidays package's Danish names
    weekday = ("man.", "tirs.", "ons.", "tors.", "fre.", "lør.", "søn.")[christmas.weekday()]
    assert f"{weekday} 25. dec. {christmas.year}" in html  # Babel's Danish date
    assert ">Gem<" in html and ">Tildel kalenderen<" in html


def test_calendar_pages_stay_english_for_an_english_reader(client, calendar_id):
    c = _reader(client, "en")
    html = c.get(f"/sag/calendars/{calendar_id}").text
    assert 'for="hours_mon">Monday</label>' in html and "Next 14 days" in html and "Upcoming holidays" in html
    christmas = _next_christmas()
    assert "Christmas Day" in html and f"25 Dec {christmas.year}" in html and "Juledag" not in html
    assert "Mon 08:00-12:00, 12:30-16:00" in c.get("/sag/calendars").text

