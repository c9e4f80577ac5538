"""The reminder pages in Danish for a Danish user (and still English for an English one): the
Notifications inbox, the rule editor's form, and the page behind an e-mail's action link."""

from __future__ import annotations

from app.core import database, formats
from app.modules.sag.reminders import email as reminder_email
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    logs,
    make_case,
    make_rule,
    run_worker,
    set_status,
)
from tests.fixtures import login, make_user


def _speaks(user: dict, language: str | None) -> dict:
    database.execute_update("UPDATE users SET language = %s WHERE id = %s", (language, user["id"]))
    return user


def _reminder_for(user: dict) -> dict:
    clear_queue()
    case = make_case(title="Serveren svarer ikke", assigned_to=user["id"], priority="urgent")
    rule = make_rule(sag_id=case["id"], name="Sag i bero", title_template="{{ case.title }}: i bero")
    set_status(case["id"], "on_hold")
    run_worker()
    [row] = logs(rule_id=rule["id"], user_id=user["id"])
    return row


def test_notifications_page_is_danish_for_a_danish_user(client):
    dane = _speaks(make_user(), "da")
    row = _reminder_for(dane)
    login(client, dane)
    page = client.get("/sag/reminders")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="da"' in html
    # (texts the core's catalog may also hold, such as "Notifications", are left to the core's tests)
    for text in ("Ulæste", "Udsatte", "Holdt tilbage", "Alle sager", "Kvittér", "Udsæt", "I morgen kl. 8.00",
                 "Leveret", "haster", "regel “Sag i bero”", "Påmindelser", "Omtaler", "Fulgte sager", "I browseren",
                 "Ikke færdige"):
        assert text in html, text
    # the reminder's time as Danish writes it, in the user's zone
    assert formats.format_datetime(row["created_at"], "medium", dane["timezone"], "da") in html
    # the rule author's title stays as written
    assert "Serveren svarer ikke: i bero" in html
    assert "Mark read" not in html and "Acknowledge" not in html


def test_notifications_page_stays_english_for_an_english_user(client):
    brit = _speaks(make_user(), "en")
    row = _reminder_for(brit)
    login(client, brit)
    html = client.get("/sag/reminders").text
    assert '<html lang="en"' in html
    for text in ("Notifications", "Notification preferences", "Mark read", "Acknowledge", "Snooze", "Delivered"):
        assert text in html, text
    assert formats.format_datetime(row["created_at"], "medium", brit["timezone"], "en") in html
    assert "Notifikationer" not in html


def test_rule_form_and_editor_texts_are_danish(client):
    admin = _speaks(make_user("admin"), "da")
    login(client, admin)
    page = client.get("/sag/reminders/rules")
    assert page.status_code == 200
    html = page.text
    for text in ("Globale påmindelsesregler", "Tilføj global regel", "Ny påmindelsesregel", "Før fristen",
                 "Ved statusskift", "Hvor længe før fristen", "arbejdstid (standardkalender)", "Ansvarlig",
                 "Følgere", "Alle administratorer", "Påmind igen hver (t)",
                 "Lever kun inden for åbningstid (holdes tilbage, til kalenderen åbner)", "Forhåndsvis",
                 "Gem regel", "{{ case.title }}: fristen nærmer sig"):
        assert text in html, text
    # the editor script's texts travel with the page, translated
    assert '"Rule saved.": "Reglen er gemt."' in html
    assert '"No global rules yet.": "Ingen globale regler endnu."' in html
    editor = client.get("/sag/reminders/editor.json").json()
    assert editor["trigger_types"]["deadline"] == "Før fristen"


def test_email_action_link_page_speaks_the_browsers_language(client):
    dane = _speaks(make_user(), "da")
    row = _reminder_for(dane)
    url = reminder_email.action_link(row["id"], dane["id"], "snooze_1h").split("/sag/", 1)[1]
    page = client.get(f"/sag/{url}", headers={"Accept-Language": "da"})
    assert page.status_code == 200
    assert "Udsæt påmindelsen 1 time?" in page.text and "Åbn sagen i stedet" in page.text
    done = client.post(f"/sag/{url}", headers={"Accept-Language": "da"})
    assert "Udsat. Påmindelsen kommer igen om en time." in done.text


def test_queue_page_is_danish_for_a_danish_admin(client):
    login(client, _speaks(make_user("admin"), "da"))
    page = client.get("/sag/reminders/queue")
    assert page.status_code == 200
    for text in ("Påmindelseskø", "Ældste forfaldne, venter stadig", "Gennemløb, seneste time", "Seneste fejl",
                 "Fejlede leveringer", "hændelser behandlet", "venter"):
        assert text in page.text, text
