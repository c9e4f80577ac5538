"""One inbox: the Notifications page lists reminders, mentions and watched-case news, filterable by kind."""

from __future__ import annotations

from app.modules.sag.conversation.tests.mentions_helpers import add_note, drain
from app.modules.sag.reminders.tests.reminders_helpers import clear_queue, make_case, make_rule, set_status
from tests.fixtures import login, make_user


def _setup(me: dict) -> dict:
    clear_queue()
    author = make_user(full_name="Sofie Hansen")
    mention_case = make_case(title="Mention case")
    watched = make_case(title="Watched case", assigned_to=me["id"])
    ruled = make_case(title="Ruled case")
    make_rule(sag_id=ruled["id"], recipients={"users": [me["id"]]}, title_template="Rule fired on {{ case.title }}")
    add_note(mention_case["id"], author, f"@{me['username']} question for you")
    add_note(watched["id"], author, "an update")
    set_status(ruled["id"], "in_progress")
    drain()
    return {"mention": mention_case, "watch": watched, "reminder": ruled}


def test_the_inbox_lists_every_kind_and_filters_by_kind(app, client):
    me = make_user()
    login(client, me)
    cases = _setup(me)
    page = client.get("/sag/reminders?channel=in_app").text
    assert "<h1 class=\"h3 mb-0 me-auto\">Notifications</h1>" in page
    assert "mentioned you on" in page and "wrote on" in page and "Rule fired on Ruled case" in page
    only = client.get("/sag/reminders?channel=in_app&kind=mention").text
    assert "mentioned you on" in only and "wrote on" not in only and "Rule fired" not in only
    assert 'data-kind="mention"' in only
    watched = client.get("/sag/reminders?channel=in_app&kind=watch").text
    assert f"#{cases['watch']['id']}: Watched case" in watched and "mentioned you" not in watched
    reminders = client.get("/sag/reminders?channel=in_app&kind=reminder").text
    assert "Rule fired on Ruled case" in reminders and "mentioned you" not in reminders and "wrote on" not in reminders


def test_an_unknown_kind_is_a_422(app, client):
    login(client, make_user())
    r = client.get("/sag/reminders?kind=birthday")
    assert r.status_code == 422


def test_the_profile_and_the_user_menu_link_to_the_inbox_with_unread_counts(app, client):
    me = make_user()
    login(client, me)
    _setup(me)
    profile = client.get("/me").text
    assert 'id="profileNotifications"' in profile
    assert 'href="/sag/reminders?filter=all&amp;channel=in_app&amp;kind=mention" data-kind="mention"' in profile
    assert "1 unread" in profile
    assert '<a class="dropdown-item" href="/sag/reminders">Notifications</a>' in profile


def test_the_reminders_api_filters_by_kind_and_names_each_rows_kind(app, user_api):
    me = user_api.user
    _setup(me)
    everything = user_api.get("/api/v1/sag/reminders/mine?channel=in_app").json()
    assert sorted(i["kind"] for i in everything["items"]) == ["mention", "reminder", "watch"]
    mentions = user_api.get("/api/v1/sag/reminders/mine?channel=in_app&kind=mention").json()
    assert [i["kind"] for i in mentions["items"]] == ["mention"] and mentions["total"] == 1
    assert user_api.get("/api/v1/sag/reminders/mine?kind=birthday").status_code == 422
