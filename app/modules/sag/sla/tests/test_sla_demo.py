"""`bmc-hub demo` for SLAs: a Danish default calendar, two policies, and cases in every SLA
state (ok, warning, breached, met, paused); running it again adds nothing."""

import pytest
from rich.progress import Progress

from app.core import database
from app.modules.sag.backend import demo as sag_demo
from app.modules.sag.sla import demo
from tests.fixtures import make_user


def _run_demo() -> None:
    with Progress(disable=True) as progress:
        sag_demo.run(progress, progress.add_task("sag", total=None))


@pytest.fixture(scope="module")
def demo_run(app):
    for name in ("mette", "lars", "sofie"):
        make_user("user", username=name)
    _run_demo()


def _states() -> dict[str, int]:
    rows = database.execute_query("SELECT sla.sla_state AS state, count(*) AS n FROM sag_sager s "
                                  "CROSS JOIN LATERAL sag_sla_case(s.id, now()) AS sla GROUP BY 1")
    return {r["state"]: r["n"] for r in rows}


def test_demo_sets_up_a_danish_calendar_and_two_policies(demo_run):
    cal = database.execute_query("SELECT * FROM sag_calendars WHERE name = %s", (demo.DEMO_CALENDAR,))[0]
    assert cal["is_default"] and cal["country"] == "DK"
    policies = database.execute_query("SELECT name, priority, response_minutes, resolution_minutes "
                                      "FROM sag_sla_policies ORDER BY id")
    assert [(p["name"], p["priority"]) for p in policies] == [("Standard", None), ("Premium (urgent)", "urgent")]
    pauses = database.execute_query("SELECT count(*) AS n FROM sag_sla_pause_statuses")[0]["n"]
    assert pauses == 4  # waiting_customer and on_hold for each


def test_demo_cases_show_every_sla_state(demo_run):
    states = _states()
    for state in ("ok", "warning", "breached", "met", "paused"):
        assert states.get(state, 0) >= 1, states
    rows = database.execute_query("SELECT s.title, sla.sla_state FROM sag_sager s "
                                  "CROSS JOIN LATERAL sag_sla_case(s.id, now()) AS sla WHERE s.title LIKE %s",
                                  (demo.SLA_CASE_PREFIX + "%",))
    by_title = {r["title"]: r["sla_state"] for r in rows}
    for state, title, *_ in demo.SLA_CASES:
        assert by_title[f"{demo.SLA_CASE_PREFIX} {title}"] == state


def test_demo_case_clocks_follow_their_back_dated_history(demo_run):
    # The demo writes histories first and back-dates them after: every clock must be computed
    # from the history as it ended up (the set-based recompute gives the same as per case).
    before = database.execute_query("SELECT sag_id, response_due_at, resolution_due_at, first_response_at "
                                    "FROM sag_sla_clocks ORDER BY sag_id")
    database.execute_query("SELECT sag_sla_refresh(id) FROM sag_sager")
    after = database.execute_query("SELECT sag_id, response_due_at, resolution_due_at, first_response_at "
                                   "FROM sag_sla_clocks ORDER BY sag_id")
    assert before == after and len(before) > 100


def test_running_the_demo_again_adds_nothing(demo_run):
    counts = database.execute_query("SELECT (SELECT count(*) FROM sag_sager) AS cases, "
                                    "(SELECT count(*) FROM sag_sla_policies) AS policies")[0]
    _run_demo()
    assert database.execute_query("SELECT (SELECT count(*) FROM sag_sager) AS cases, "
                                  "(SELECT count(*) FROM sag_sla_policies) AS policies")[0] == counts
