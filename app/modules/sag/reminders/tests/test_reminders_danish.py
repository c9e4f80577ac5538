"""Reminders in the recipient's language: one firing mailed to a Danish and an English user (real worker,
real SMTP on loopback), the held-back summary, the daily digest and an escalated reminder in Danish.

The suite's hub default is English (LANGUAGE=en), so a user without a language and an external
address read English; a user whose `users.language` is 'da' reads Danish.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.core import database, formats
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    db_now,
    logs,
    make_case,
    make_rule,
    prefs,
    run_worker,
    set_status,
    worker,
)
from tests.fixtures import make_user

CPH = ZoneInfo("Europe/Copenhagen")
DEADLINE = datetime(2026, 12, 1, 13, 5, tzinfo=UTC)  # 14:05 in Copenhagen


def _speaks(user: dict, language: str | None) -> dict:
    database.execute_update("UPDATE users SET language = %s WHERE id = %s", (language, user["id"]))
    return user


def _parts(msg) -> tuple[str, str]:
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def _status_labels(key: str) -> tuple[str, str]:
    row = database.execute_query("SELECT label, label_da FROM sag_statuses WHERE key = %s", (key,))[0]
    return row["label"], row["label_da"]


def test_one_firing_reaches_a_danish_and_an_english_recipient_each_in_their_language(app, smtp_inbox):
    clear_queue()
    dane, brit = _speaks(make_user(), "da"), _speaks(make_user(), "en")
    case = make_case(title="Printeren på 2. sal", priority="urgent", deadline=DEADLINE, assigned_to=brit["id"])
    make_rule(sag_id=case["id"], channels=["email"], title_template="Tjek {{ case.title }}",
              recipients={"users": [dane["id"], brit["id"]], "emails": ["kunde@example.test"]})
    set_status(case["id"], "on_hold")
    run_worker()
    [da_msg], [en_msg] = smtp_inbox.to(dane), smtp_inbox.to(brit)
    [ext_msg] = [m for m in smtp_inbox.messages if "kunde@example.test" in str(m["To"])]
    label_en, label_da = _status_labels("on_hold")

    # The rule's own title is the author's text: the same for everyone.
    for msg in (da_msg, en_msg, ext_msg):
        assert msg["Subject"] == f"[#{case['id']}] Tjek Printeren på 2. sal"

    text, html = _parts(da_msg)
    assert '<html lang="da">' in html
    for part in (text, html):
        assert "Åbn sagen" in part and "Kvittér" in part and "Udsæt 1 time" in part and "Udsæt 1 dag" in part
        assert "Frist" in part and "haster" in part
        assert "1. dec. 2026 14.05" in part  # the deadline in Danish, in the recipient's zone
        assert label_da in part
        assert "Disse links virker i 7 dage og kun for dig." in part
        assert "Open case" not in part and "Acknowledge" not in part

    text, html = _parts(en_msg)
    assert '<html lang="en">' in html
    for part in (text, html):
        assert "Open case" in part and "Acknowledge" in part and "Snooze 1 hour" in part
        assert "1 Dec 2026, 14:05" in part and label_en in part and "urgent" in part
        assert "These links work for 7 days and only for you." in part
        assert "Åbn sagen" not in part

    # An external address reads the hub's language (English in the suite).
    text, _html = _parts(ext_msg)
    assert "Open case" in text and "You receive this because an address list" in text


def test_held_back_summary_is_in_the_recipients_language(app, smtp_inbox):
    clear_queue()
    dane = _speaks(make_user(timezone="UTC"), "da")
    prefs(dane["id"], in_app_enabled=False, max_per_hour=1)
    now = db_now()
    offset = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1, minutes=10) - now
    rule = make_rule(recipients={"users": [dane["id"]]}, channels=["email"],
                     trigger_config={"from": "new", "to": "on_hold"})
    cases = [make_case() for _ in range(3)]
    database.execute_update("UPDATE sag_sager SET status = 'on_hold' WHERE id = ANY(%s)", ([c["id"] for c in cases],))
    run_worker(offset=offset)
    assert sorted(r["status"] for r in logs(rule_id=rule["id"], user_id=dane["id"])) == [
        "rate_limited", "rate_limited", "sent"]
    run_worker(offset=offset + timedelta(minutes=51))  # the window is over: the summary goes out
    [row] = [r for r in logs(user_id=dane["id"]) if r["rule_id"] is None]
    assert row["title"] == "2 påmindelser holdt tilbage" and row["status"] == "sent"
    summary = [m for m in smtp_inbox.to(dane) if m["Subject"] == "2 påmindelser holdt tilbage"]
    assert len(summary) == 1
    text, html = _parts(summary[0])
    for part in (text, html):
        assert "Disse påmindelser blev holdt tilbage af din grænse pr. time." in part
        assert "Åbn mine påmindelser" in part


def test_daily_digest_is_in_the_recipients_language(app, smtp_inbox):
    clear_queue()
    database.execute_update("UPDATE sag_digest_settings SET enabled = FALSE")
    dane = _speaks(make_user(), "da")
    database.execute_update("INSERT INTO sag_digest_settings (user_id, enabled, send_at) VALUES (%s, TRUE, '07:30')",
                            (dane["id"],))
    today = datetime.now(CPH).date() + timedelta(weeks=2)
    day = today + timedelta(days=(1 - today.weekday()) % 7)  # a Tuesday, a working day
    overdue = make_case(title="Certifikatet er udløbet", assigned_to=dane["id"], priority="high",
                        deadline=datetime.combine(day - timedelta(days=1), time(16), CPH))
    w = worker(datetime.combine(day, time(7, 31), CPH) - db_now(), digest_every_s=0)
    try:
        w.drain()
    finally:
        w.close()
    [msg] = smtp_inbox.to(dane)
    assert msg["Subject"] == f"Din dag {formats.format_date(day, 'EEEEdMMMM', language='da')}: 1 punkt"
    text, html = _parts(msg)
    assert "Forfaldne (1)" in text and f"#{overdue['id']} Certifikatet er udløbet" in text
    expected_deadline = formats.format_datetime(overdue["deadline"], "medium", "Europe/Copenhagen", "da")
    assert f"frist {expected_deadline}" in text
    assert "Åbn mine påmindelser" in text and "Slå det daglige overblik fra" in text
    assert "Dit daglige overblik fra BMC Hub." in html and ">høj<" in html
    assert "indstillinger for notifikationer</a>" in html


def test_escalated_reminder_title_is_prefixed_in_the_recipients_language(app):
    clear_queue()
    tech = make_user()
    boss = _speaks(make_user("admin"), "da")
    case = make_case(assigned_to=tech["id"])
    rule = make_rule(sag_id=case["id"], repeat_every_hours=2, escalate_after=2, escalate_role="admin",
                     trigger_config={"from": "any", "to": "waiting_customer"})
    set_status(case["id"], "waiting_customer")
    run_worker()
    run_worker(offset=timedelta(hours=2, seconds=5))
    run_worker(offset=timedelta(hours=4, seconds=10))  # occurrence 3: escalated to the admins
    [boss_row] = logs(rule_id=rule["id"], user_id=boss["id"])
    assert boss_row["escalated"] and boss_row["title"] == f"Eskaleret: {case['title']} changed"
    assert not logs(rule_id=rule["id"], user_id=tech["id"])[-1]["title"].startswith("Eskaleret")


def test_grouped_reminder_toast_and_email_are_in_the_recipients_language(app, smtp_inbox):
    clear_queue()
    mette, john = _speaks(make_user(), "da"), _speaks(make_user(), "en")
    cases = [make_case(title=f"Printer {i}", assigned_to=mette["id"]) for i in range(3)]
    cases += [make_case(title=f"Laptop {i}", assigned_to=john["id"]) for i in range(2)]
    make_rule(name="Venter på kunden", channels=["in_app", "email"],
              trigger_config={"from": "any", "to": "waiting_customer"})
    database.execute_update("UPDATE sag_sager SET status = 'waiting_customer' WHERE id = ANY(%s)",
                            ([c["id"] for c in cases],))
    run_worker()
    [da_group] = [r for r in logs(user_id=mette["id"], channel="in_app") if r["sag_id"] is None]
    [en_group] = [r for r in logs(user_id=john["id"], channel="in_app") if r["sag_id"] is None]
    assert da_group["title"] == "Venter på kunden: 3 sager"  # the toast's title, as stored
    assert en_group["title"] == "Venter på kunden: 2 cases"
    [da_mail], [en_mail] = smtp_inbox.to(mette), smtp_inbox.to(john)
    assert da_mail["Subject"] == "Venter på kunden: 3 sager" and en_mail["Subject"] == "Venter på kunden: 2 cases"
    text, _html = _parts(da_mail)
    assert "Én regel blev udløst for flere af dine sager på én gang." in text and "Åbn mine påmindelser" in text
    text, _html = _parts(en_mail)
    assert "One rule fired for several of your cases at once." in text and "Open my reminders" in text
