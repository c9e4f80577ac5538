"""The navigation marks exactly one item: the one whose URL is the longest prefix of the page."""

from app.core.templating import active_nav_url
from tests.fixtures import login, make_user

URLS = ["/", "/customers", "/sag", "/sag/reminders"]


def test_the_longest_matching_item_is_active():
    assert active_nav_url("/sag/reminders", URLS) == "/sag/reminders"
    assert active_nav_url("/sag/12", URLS) == "/sag"
    assert active_nav_url("/customers/3/edit", URLS) == "/customers"
    assert active_nav_url("/", URLS) == "/"


def test_a_prefix_must_end_at_a_path_segment():
    assert active_nav_url("/sagsbehandling", URLS) is None
    assert active_nav_url("/me", URLS) is None


def test_reminders_page_marks_only_my_reminders(client):
    login(client, make_user())
    page = client.get("/sag/reminders").text
    assert page.count('aria-current="page"') == 1
    assert 'aria-current="page" href="/sag/reminders"' in page
