"""Calendar admin pages: the list, the editor with the next 14 days and upcoming holidays,
the admin-menu link, admin-only access, and the demo's Danish default calendar."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from rich.progress import Progress

from app.core import database
from app.modules.sag.backend import demo as sag_demo
from app.modules.sag.sla import demo
from tests.fixtures import login, make_user


@pytest.fixture
def admin_client(client):
    login(client, make_user("admin"))
    return client


@pytest.fixture(scope="module")
def demo_calendar_id(app) -> int:
    with Progress(disable=True) as progress:
        sag_demo.run(progress, progress.add_task("sag", total=None))
    return database.execute_query("SELECT id FROM sag_calendars WHERE name = %s", (demo.DEMO_CALENDAR,))[0]["id"]


def test_demo_sets_up_a_danish_default_calendar_once(demo_calendar_id):
    row = database.execute_query("SELECT * FROM sag_calendars WHERE id = %s", (demo_calendar_id,))[0]
    assert row["is_default"] and row["country"] == "DK" and row["timezone"] == "Europe/Copenhagen"
    assert row["weekly_hours"]["mon"] == demo.LUNCH_BREAK and row["weekly_hours"]["sat"] == []
    assert demo.demo_calendar() is None  # a second run adds nothing
    assert database.execute_query("SELECT count(*) AS n FROM sag_calendars WHERE is_default")[0]["n"] == 1


def test_calendar_list_shows_the_default_and_its_weekly_hours(admin_client, demo_calendar_id):
    r = admin_client.get("/sag/calendars")
    assert r.status_code == 200
    assert demo.DEMO_CALENDAR in r.text and "default</span>" in r.text
    assert "Mon 08:00-12:00, 12:30-16:00" in r.text and f'href="/sag/calendars/{demo_calendar_id}"' in r.text


def test_editor_shows_the_next_14_days_and_upcoming_holidays(admin_client, demo_calendar_id):
    r = admin_client.get(f"/sag/calendars/{demo_calendar_id}")
    assert r.status_code == 200
    today = datetime.now(ZoneInfo("Europe/Copenhagen")).date()
    assert r.text.count('<tr data-date="') == 14
    assert f'data-date="{today.isoformat()}"' in r.text
    assert 'id="hours_mon" data-weekday="mon" value="08:00-12:00, 12:30-16:00"' in r.text
    assert f"{today.year}-12-24 Christmas Eve" in r.text  # the closed dates as editable text
    # The next Christmas Day is always among the upcoming holidays.
    christmas = date(today.year, 12, 25) if today <= date(today.year, 12, 25) else date(today.year + 1, 12, 25)
    assert "Christmas Day" in r.text and christmas.strftime("%d %b %Y") in r.text
    assert 'src="/static/modules/sag/calendar_editor.js"' in r.text


def test_new_calendar_page_starts_from_office_hours(admin_client, demo_calendar_id):
    r = admin_client.get("/sag/calendars/new")
    assert r.status_code == 200 and "Create calendar" in r.text
    assert 'id="calDefault" name="is_default" >' in r.text  # a default exists: not ticked
    assert 'id="hours_fri" data-weekday="fri" value="08:00-12:00, 12:30-16:00"' in r.text
    assert 'id="hours_sun" data-weekday="sun" value=""' in r.text


def test_admin_menu_links_to_calendars_besides_the_reminder_pages(admin_client):
    r = admin_client.get("/")
    assert 'href="/sag/calendars"' in r.text and 'href="/sag/reminders/queue"' in r.text


def test_calendar_pages_are_for_admins_only(client, demo_calendar_id):
    login(client, make_user("user"))
    for url in ("/sag/calendars", "/sag/calendars/new", f"/sag/calendars/{demo_calendar_id}"):
        assert client.get(url).status_code == 403
    assert 'href="/sag/calendars"' not in client.get("/").text


def test_unknown_or_bad_calendar_pages_answer_404_and_422(admin_client):
    assert admin_client.get("/sag/calendars/999999").status_code == 404
    assert admin_client.get("/sag/calendars/0").status_code == 422
    assert admin_client.get("/sag/calendars/abc").status_code in (404, 422)


def test_the_editor_script_is_served(admin_client):
    r = admin_client.get("/static/modules/sag/calendar_editor.js")
    assert r.status_code == 200 and "/api/v1/sag/calendars" in r.text
