"""The daily digest end to end: a real reminder worker (injectable clock) and a real SMTP server.

Content and links, nothing to report = no e-mail, exactly once across workers and restarts,
a late worker sends the same day but not a missed day, non-working days of the default
calendar, the user's time zone, failures recorded and retried.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from psycopg.types.json import Jsonb

from app.core import database
from app.core.config import get_settings
from app.modules.sag.reminders.tests.reminders_helpers import (
    clear_queue,
    db_now,
    free_port,
    make_case,
    make_rule,
    set_status,
    use_smtp,
    worker,
)
from tests.fixtures import make_user

CPH = ZoneInfo("Europe/Copenhagen")


def _weekday(weekday: int, weeks_ahead: int = 2) -> date:
    """A date of the given weekday (0 = Monday) a few weeks from now, so nothing real interferes."""
    today = datetime.now(CPH).date() + timedelta(weeks=weeks_ahead)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _at(day: date, hh: int, mm: int, tz: ZoneInfo = CPH) -> timedelta:
    """The worker offset that makes its clock read `day hh:mm` in `tz`."""
    return datetime.combine(day, time(hh, mm), tz) - db_now()


def _digest_user(**settings) -> dict:
    """A user with the digest on; earlier tests' users are switched off, so counts are this user's."""
    database.execute_update("UPDATE sag_digest_settings SET enabled = FALSE")
    user = make_user(timezone=settings.pop("timezone", "Europe/Copenhagen"))
    values = {"enabled": True, "send_at": "07:30", "include_unassigned": False} | settings
    database.execute_update(
        "INSERT INTO sag_digest_settings (user_id, enabled, send_at, include_unassigned) "
        "VALUES (%(u)s, %(enabled)s, %(send_at)s, %(include_unassigned)s)", dict(values, u=user["id"]))
    return user


def _check(offset: timedelta, **options) -> int:
    w = worker(offset, digest_every_s=0, **options)
    try:
        w.drain()  # each batch (and the first look when idle) also sends the digests that are due
        return w.digests_sent
    finally:
        w.close()


def _runs(user: dict) -> list[dict]:
    return database.execute_query("SELECT * FROM sag_digest_runs WHERE user_id = %s ORDER BY local_date",
                                  (user["id"],))


def _text(msg) -> tuple[str, str]:
    return (msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content())


def test_digest_lists_overdue_due_today_unassigned_and_unread_reminders_with_links(app, smtp_inbox):
    clear_queue()
    day = _weekday(1)
    user = _digest_user(include_unassigned=True)
    overdue = make_case(title="Printer <b>on fire</b>", assigned_to=user["id"],
                        deadline=datetime.combine(day - timedelta(days=1), time(16), CPH))
    due = make_case(title="Renew the certificate", assigned_to=user["id"],
                    deadline=datetime.combine(day, time(15), CPH))
    later = make_case(title="Plan the migration", assigned_to=user["id"],
                      deadline=datetime.combine(day + timedelta(days=1), time(9), CPH))
    unassigned = make_case(title="Nobody owns this yet")
    make_rule(name="Status news", channels=["in_app"], title_template="#{{ case.number }} changed status")
    set_status(due["id"], "in_progress")
    assert _check(_at(day, 7, 31)) == 1

    [msg] = smtp_inbox.to(user)
    text, html = _text(msg)
    assert msg["Subject"].startswith("Your day ") and msg["X-BMC-Digest"] == day.isoformat()
    assert "Overdue (1)" in text and f"#{overdue['id']} Printer <b>on fire</b>" in text
    assert "Printer &lt;b&gt;on fire&lt;/b&gt;" in html
    assert "Due today (1)" in text and f"#{due['id']} Renew the certificate" in text
    assert later["title"] not in text
    assert "Unassigned open cases" in text and "Nobody owns this yet" in text
    assert "Unread reminders and mentions (1)" in text and f"#{due['id']} changed status" in text
    base = get_settings().base_url.rstrip("/")
    assert f"{base}/sag/{overdue['id']}" in text and f'href="{base}/sag/{unassigned["id"]}"' in html
    assert f'href="{base}/sag/reminders"' in html
    [run] = _runs(user)
    assert run["status"] == "sent" and run["item_count"] == 4 and run["attempts"] == 1


def test_unassigned_cases_only_when_asked_for_and_nothing_to_report_sends_no_email(app, smtp_inbox):
    clear_queue()
    day = _weekday(2)
    user = _digest_user()
    make_case(title="Unassigned but not wanted")
    assert _check(_at(day, 8, 0)) == 0
    assert smtp_inbox.to(user) == []
    [run] = _runs(user)
    assert run["status"] == "empty" and run["item_count"] == 0
    # Decided for today: a later check does not look again.
    assert _check(_at(day, 12, 0)) == 0 and len(_runs(user)) == 1


def test_exactly_one_digest_per_day_with_two_workers_and_a_restart(app, smtp_inbox):
    clear_queue()
    day = _weekday(3)
    user = _digest_user()
    make_case(title="Overdue thing", assigned_to=user["id"], deadline=datetime.combine(day, time(6), CPH))
    offset = _at(day, 7, 45)
    workers = [worker(offset, digest_every_s=0) for _ in range(2)]
    start = threading.Barrier(2)
    sent: list[int] = []

    def go(w):
        start.wait()
        sent.append(w.send_digests())

    threads = [threading.Thread(target=go, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for w in workers:
        w.close()
    assert sorted(sent) == [0, 1]
    # A restarted worker later that day finds it done.
    assert _check(_at(day, 16, 0)) == 0
    assert len(smtp_inbox.to(user)) == 1 and len(_runs(user)) == 1


def test_worker_down_at_send_time_sends_later_the_same_day_but_never_a_missed_day(app, smtp_inbox):
    clear_queue()
    monday = _weekday(0)
    user = _digest_user(send_at="07:30")
    make_case(title="Still overdue", assigned_to=user["id"], deadline=datetime.combine(monday, time(6), CPH))
    assert _check(_at(monday, 7, 29)) == 0 and _runs(user) == []
    # No worker ran at 07:30; one comes back at 14:10 the same day.
    assert _check(_at(monday, 14, 10)) == 1
    assert [r["local_date"] for r in _runs(user)] == [monday]
    # Nothing ran on Tuesday; on Wednesday only Wednesday's digest goes out.
    wednesday = monday + timedelta(days=2)
    assert _check(_at(wednesday, 9, 0)) == 1
    assert [r["local_date"] for r in _runs(user)] == [monday, wednesday]
    assert [m["X-BMC-Digest"] for m in smtp_inbox.to(user)] == [monday.isoformat(), wednesday.isoformat()]


def test_send_time_is_the_users_local_time(app, smtp_inbox):
    clear_queue()
    day = _weekday(1, weeks_ahead=3)
    ny = ZoneInfo("America/New_York")
    user = _digest_user(timezone="America/New_York", send_at="07:30")
    make_case(title="Overdue in New York", assigned_to=user["id"], deadline=datetime.combine(day, time(1), ny))
    # 07:35 in Copenhagen is the middle of the night in New York.
    assert _check(_at(day, 7, 35, CPH)) == 0 and smtp_inbox.to(user) == []
    assert _check(_at(day, 7, 35, ny)) == 1
    [msg] = smtp_inbox.to(user)
    assert msg["X-BMC-Digest"] == day.isoformat()


def test_failed_send_is_recorded_on_the_run_and_retried(app, smtp_inbox):
    clear_queue()
    day = _weekday(4, weeks_ahead=3)
    user = _digest_user()
    make_case(title="Overdue while mail is down", assigned_to=user["id"],
              deadline=datetime.combine(day, time(6), CPH))
    use_smtp(free_port())  # nothing listens there
    try:
        assert _check(_at(day, 8, 0), retry_base_s=60.0) == 0
    finally:
        use_smtp(smtp_inbox.port)
    [run] = _runs(user)
    assert run["status"] == "failed" and run["attempts"] == 1 and run["last_error"]
    assert _check(_at(day, 8, 0, CPH) + timedelta(seconds=30), retry_base_s=60.0) == 0  # back-off not over
    assert _check(_at(day, 8, 2), retry_base_s=60.0) == 1
    [run] = _runs(user)
    assert run["status"] == "sent" and run["attempts"] == 2 and run["last_error"] is None
    assert len(smtp_inbox.to(user)) == 1


def test_non_working_days_of_the_default_calendar_are_skipped(app, smtp_inbox):
    """Last in this file: it makes a default calendar, which every later digest would follow."""
    clear_queue()
    user = _digest_user()
    saturday = _weekday(5, weeks_ahead=4)
    closed_wednesday = saturday + timedelta(days=4)
    make_case(title="Overdue all week", assigned_to=user["id"],
              deadline=datetime.combine(saturday - timedelta(days=3), time(6), CPH))
    week = {d: [{"start": "08:00", "end": "16:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}
    cal = database.execute_query(
        "INSERT INTO sag_calendars (name, weekly_hours, country, is_default) VALUES ('Digest test', %s, NULL, TRUE) "
        "RETURNING id", (Jsonb(week),))[0]
    database.execute_update("INSERT INTO sag_calendar_days (calendar_id, day, hours, note) VALUES (%s, %s, '[]', "
                            "'Closed for the move')", (cal["id"], closed_wednesday))
    assert _check(_at(saturday, 9, 0)) == 0
    assert _check(_at(closed_wednesday, 9, 0)) == 0
    assert smtp_inbox.to(user) == []
    assert [(r["local_date"], r["status"]) for r in _runs(user)] == [(saturday, "skipped"),
                                                                     (closed_wednesday, "skipped")]
    thursday = closed_wednesday + timedelta(days=1)
    assert _check(_at(thursday, 9, 0)) == 1 and len(smtp_inbox.to(user)) == 1


def test_the_preferences_page_has_the_digest_section_and_saves_it(app, client):
    from tests.fixtures import login

    user = make_user()
    csrf = login(client, user)
    page = client.get("/me/notifications")
    assert page.status_code == 200 and 'id="dailyDigest"' in page.text and 'value="07:30"' in page.text
    r = client.post("/sag/digest/settings", data={"csrf_token": csrf, "digest_enabled": "1",
                                                  "digest_send_at": "06:45", "digest_unassigned": "1"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/me/notifications")
    row = database.execute_query("SELECT * FROM sag_digest_settings WHERE user_id = %s", (user["id"],))[0]
    assert row["enabled"] and row["send_at"] == time(6, 45) and row["include_unassigned"]
    bad = client.post("/sag/digest/settings", data={"csrf_token": csrf, "digest_enabled": "1",
                                                    "digest_send_at": "25:99"})
    assert bad.status_code == 422 and 'data-error-for="send_at"' in bad.text
    assert client.post("/sag/digest/settings", data={"digest_enabled": "1", "digest_send_at": "08:00"},
                       follow_redirects=False).status_code == 403  # no CSRF token
    assert database.execute_query("SELECT send_at FROM sag_digest_settings WHERE user_id = %s",
                                  (user["id"],))[0]["send_at"] == time(6, 45)


def test_digest_settings_api_reads_defaults_and_refuses_bad_input(app, user_api):
    assert user_api.get("/api/v1/sag/digest/settings").json() == {
        "enabled": False, "send_at": "07:30:00", "include_unassigned": False}
    r = user_api.put("/api/v1/sag/digest/settings", json={"enabled": True, "send_at": "09:15"})
    assert r.status_code == 200 and r.json()["send_at"] == "09:15:00" and r.json()["enabled"] is True
    assert user_api.put("/api/v1/sag/digest/settings", json={"enabled": "yes"}).status_code == 422
    assert user_api.put("/api/v1/sag/digest/settings", json={"send_at": "7 o'clock"}).status_code == 422
    assert user_api.put("/api/v1/sag/digest/settings", json={"colour": "blue"}).status_code == 422
    assert user_api.get("/api/v1/sag/digest/settings").json()["send_at"] == "09:15:00"
