"""`bmc-hub demo` adds notes, some with @mentions, to the demo cases, without moving their story."""

from app.core import database
from app.core import demo as core_demo
from app.modules.sag.cases import demo as cases_demo
from app.modules.sag.conversation import demo as notes_demo


def test_demo_adds_notes_with_mentions_once_and_keeps_the_cases_times(db):
    core_demo.demo_users()
    core_demo.demo_customers(3)
    assert cases_demo.demo_cases(count=30) == 30
    before = database.execute_query("SELECT id, updated_at FROM sag_sager ORDER BY id")
    added = notes_demo.demo_notes()
    assert added > 20
    assert notes_demo.demo_notes() == 0  # idempotent
    notes = database.execute_query(
        "SELECT n.body, n.created_at, s.created_at AS case_created, s.updated_at FROM sag_notes n "
        "JOIN sag_sager s ON s.id = n.sag_id")
    assert any('@"' in n["body"] for n in notes) and any("@" in n["body"] and '@"' not in n["body"] for n in notes)
    assert all(n["case_created"] <= n["created_at"] <= n["updated_at"] for n in notes)
    assert database.execute_query("SELECT id, updated_at FROM sag_sager ORDER BY id") == before
