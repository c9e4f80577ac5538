"""The SLA policy pages in Danish: headings, scope and durations ("2 t 10 min"), status and
priority names, and a refused form's messages; an English reader still sees English."""

import uuid

import pytest

from app.core import database
from tests.fixtures import login, make_user


def _reader(client, language: str):
    user = make_user("admin", language=language)
    client.csrf = login(client, user)
    return client


@pytest.fixture(scope="module")
def policy_name(app) -> str:
    name = f"Guld {uuid.uuid4().hex[:6]}"
    pid = database.execute_insert("INSERT INTO sag_sla_policies (name, priority, response_minutes, "
                                  "resolution_minutes) VALUES (%s, 'high', 130, 960) RETURNING id", (name,))
    database.execute_update("INSERT INTO sag_sla_pause_statuses (policy_id, status) VALUES (%s, 'on_hold')", (pid,))
    return name


def test_policy_list_in_danish(client, policy_name):
    html = _reader(client, "da").get("/sag/sla/policies").text
    assert '<h1 class="h3 mb-0 me-auto">SLA-politikker</h1>' in html and ">Ny politik<" in html
    assert "<th>Gælder for</th><th>Første svar</th><th>Løsning</th><th>Advarsel ved</th>" in html
    assert "<td>prioritet høj</td>" in html
    assert "<td>2 t 10 min</td>" in html and "<td>16 t</td>" in html
    assert "<td>kundens</td>" in html and "Sat i bero" in html  # the status's Danish label
    assert 'href="/sag/sla/policies">SLA-politikker</a>' in html  # the admin menu


def test_policy_form_and_its_refusal_in_danish(client, policy_name):
    c = _reader(client, "da")
    html = c.get("/sag/sla/policies/new").text
    assert "<h1 class=\"h3 mb-3\">Ny SLA-politik</h1>" in html and "Svarfrist (arbejdsminutter)" in html
    assert ">Alle prioriteter<" in html and ">Høj</option>" in html and ">Akut</option>" in html
    assert "Advarsel ved (% af en frist)" in html and "Statusser, der sætter uret på pause" in html
    assert 'for="pause_waiting_customer">Afventer kunde</label>' in html
    form = {"csrf_token": c.csrf, "name": f"Sølv {uuid.uuid4().hex[:6]}", "priority": "", "customer_id": "",
            "calendar_id": "", "response_minutes": "120", "resolution_minutes": "60", "warning_percent": "80"}
    r = c.post("/sag/sla/policies/new", data=form)
    assert r.status_code == 422 and "løsningsfristen kan ikke være kortere end svarfristen" in r.text
    form |= {"resolution_minutes": "600", "priority": "high"}
    r = c.post("/sag/sla/policies/new", data=form)
    assert r.status_code == 409 and f"Politikken &#39;{policy_name}&#39; dækker allerede prioritet high" in r.text


def test_policy_pages_stay_english_for_an_english_reader(client, policy_name):
    html = _reader(client, "en").get("/sag/sla/policies").text
    assert "<h1 class=\"h3 mb-0 me-auto\">SLA policies</h1>" in html and "<td>priority high</td>" in html
    assert "<td>2 h 10 m</td>" in html and "On hold" in html
