"""The case page's SLA clock card in Danish: clock names, state names (i rute, overskredet,
opfyldt, sat på pause), the working time left ("49 min 30 s arbejdstid tilbage"), the due time
as Babel writes it in Danish, and the state names the script uses; English stays English."""

import html
import json
import re

import pytest

from app.core import database, formats
from app.modules.sag.sla import businesstime, calendars
from tests.fixtures import login, make_user

ALWAYS = [{"start": "00:00", "end": "24:00"}]


@pytest.fixture(scope="module")
def policy(app):
    calendars.create_calendar(calendars.CalendarIn(name="Døgnet rundt", country=None,
                                                   weekly_hours={d: ALWAYS for d in businesstime.WEEKDAYS}))
    pid = database.execute_insert("INSERT INTO sag_sla_policies (name, response_minutes, resolution_minutes) "
                                  "VALUES ('Standard', 60, 240) RETURNING id")
    database.execute_update("INSERT INTO sag_sla_pause_statuses (policy_id, status) VALUES (%s, 'on_hold')", (pid,))
    return pid


def _case(age_minutes: float, statuses: tuple[str, ...] = ()) -> int:
    with database.transaction():
        case_id = database.execute_insert("INSERT INTO sag_sager (title) VALUES ('VPN nede') RETURNING id")
        database.execute_update("UPDATE sag_sager SET created_at = now() - make_interval(secs => %s) WHERE id = %s",
                                (age_minutes * 60, case_id))
        database.execute_update("UPDATE sag_status_history SET changed_at = now() - make_interval(secs => %s) "
                                "WHERE sag_id = %s", (age_minutes * 60, case_id))
        for status in statuses:
            database.execute_update("UPDATE sag_sager SET status = %s WHERE id = %s", (status, case_id))
        database.execute_query("SELECT sag_sla_refresh(%s)", (case_id,))
    return case_id


def _card(client, language: str, case_id: int) -> str:
    user = make_user("user", language=language)
    login(client, user)
    html = client.get(f"/sag/{case_id}").text
    return html[html.index('id="slaClocks"'):html.index("sla_clocks.js")]


def _due(case_id: int, language: str) -> str:
    due = database.execute_query("SELECT response_due_at FROM sag_sla_clocks WHERE sag_id = %s", (case_id,))[0]
    return formats.format_datetime(due["response_due_at"], tz_name="Europe/Copenhagen", language=language)


def test_running_clocks_in_danish(client, policy):
    case_id = _case(age_minutes=10)
    card = _card(client, "da", case_id)
    assert ">Første svar</span>" in card and ">Løsning</span>" in card
    assert "data-sla-badge>i rute</span>" in card
    assert re.search(r"(49|50) min \d\d s arbejdstid tilbage", card), card
    assert re.search(r"3 t (49|50) min \d\d s arbejdstid tilbage", card), card
    due = _due(case_id, "da")
    assert "Frist <time datetime=" in card and f" data-sla-due>{due}</time>" in card  # e.g. "2. dec. 2026 00.31"
    # The script shows the same state names (data-labels) and texts (the page's hub.t messages).
    labels = json.loads(html.unescape(re.search(r'data-labels="([^"]*)"', card).group(1)))
    assert labels == {"ok": "i rute", "warning": "advarsel", "breached": "overskredet", "met": "opfyldt",
                      "paused": "sat på pause"}


def test_breached_met_and_paused_clocks_in_danish(client, policy):
    card = _card(client, "da", _case(age_minutes=70))
    assert "data-sla-badge>overskredet</span>" in card and re.search(r"overskredet for 10 min siden", card)
    card = _card(client, "da", _case(age_minutes=30, statuses=("in_progress", "on_hold")))
    assert "data-sla-badge>opfyldt</span>" in card and "besvaret til tiden" in card
    assert "data-sla-badge>sat på pause</span>" in card and "sat på pause, 3 t 30 min arbejdstid tilbage" in card


def test_clock_card_stays_english_for_an_english_reader(client, policy):
    case_id = _case(age_minutes=10)
    card = _card(client, "en", case_id)
    assert ">First response</span>" in card and "data-sla-badge>ok</span>" in card
    assert re.search(r"(49|50) m \d\d s working time left", card) and f">{_due(case_id, 'en')}</time>" in card
