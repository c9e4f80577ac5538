"""A mention and watched-case news reach each recipient in their own language: the hub's words
translated, the note and the case's title as their authors wrote them."""

from __future__ import annotations

from app.modules.sag.conversation.tests.mentions_helpers import add_note, drain, notifications, set_status_as
from app.modules.sag.reminders.tests.reminders_helpers import clear_queue, make_case
from tests.fixtures import make_user


def test_one_mention_reaches_a_danish_and_an_english_user_each_in_their_language(app):
    clear_queue()
    author = make_user(full_name="Sofie Hansen")
    dansker, english = make_user(language="da"), make_user(language="en")
    case = make_case(title="Printeren driller")
    add_note(case["id"], author, f"@{dansker['username']} @{english['username']} kan I kigge på printeren?")
    drain()
    titles = {r["user_id"]: (r["title"], r["message"]) for r in notifications("mention", case["id"], channel="in_app")}
    assert titles[dansker["id"]][0] == f"Sofie Hansen nævnte dig på #{case['id']}: Printeren driller"
    assert titles[english["id"]][0] == f"Sofie Hansen mentioned you on #{case['id']}: Printeren driller"
    assert all("kan I kigge på printeren?" in message for _, message in titles.values())


def test_watched_case_news_names_the_statuses_in_each_watchers_language(app):
    clear_queue()
    actor = make_user(full_name="Ib Actor")
    dansker = make_user(language="da")
    english = make_user()  # no choice: the hub's language (English in the test suite)
    case = make_case(title="VPN", created_by=dansker["id"], assigned_to=english["id"])
    set_status_as(case["id"], actor, "in_progress")
    drain()
    rows = {r["user_id"]: r for r in notifications("watch", case["id"], channel="in_app")}
    assert rows[dansker["id"]]["title"].endswith("VPN: Ny → I gang")
    assert rows[dansker["id"]]["message"] == "Status ændret af Ib Actor."
    assert rows[english["id"]]["title"].endswith("VPN: New → In progress")
    assert rows[english["id"]]["message"] == "Status changed by Ib Actor."
