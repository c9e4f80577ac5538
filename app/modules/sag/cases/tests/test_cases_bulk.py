"""The bulk generator (cases/bulk.py): a generated case is the same as one made through the app
-- history, closed_at, version, updated_at, SLA clock, every row that refers to the case -- with
and without an SLA policy; random generation writes consistent stories (`bmc-hub demo --cases`: tests/test_cli.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from app.core import database
from app.modules.sag.cases import bulk
from app.modules.sag.cases.bulk_plan import CasePlan, micros, note_pool, random_plan, text_pool
from app.modules.sag.sla import businesstime, calendars

STEPS = (("in_progress", "Går i gang nu"), ("waiting_customer", None), ("in_progress", None),
         ("resolved", "Fejlen er rettet"), ("closed", None))


def _one(query: str, *params) -> dict:
    return database.execute_query(query, params)[0]


def _app_made_case(api, customer_id: int, steps) -> int:
    """A case made through the API with its status changes, and two notes before the last change."""
    me = api.user["id"]
    case = api.post("/api/v1/sag", json={"title": "VPN falder ud hjemmefra", "description": "Tunnel down efter 10 min",
                                         "customer_id": customer_id, "priority": "high", "assigned_to": me,
                                         "deadline": "2031-03-04T10:00:00+00:00"}).json()
    for i, (status, note) in enumerate(steps):
        if i == len(steps) - 1:
            for body in ("Har ringet til kunden", "Genstartet tjenesten"):
                database.execute_insert("INSERT INTO sag_notes (sag_id, author_id, body) VALUES (%s, %s, %s)",
                                        (case["id"], me, body))
        r = api.post(f"/api/v1/sag/{case['id']}/status", json={"status": status, "note": note})
        assert r.status_code == 200, r.text
    return case["id"]


def _plan_of(case_id: int) -> CasePlan:
    """The story of an app-made case, as the generator takes it."""
    case = _one("SELECT * FROM sag_sager WHERE id = %s", case_id)
    history = database.execute_query(
        "SELECT to_status, changed_by, note, changed_at FROM sag_status_history WHERE sag_id = %s ORDER BY id",
        (case_id,))
    notes = database.execute_query(
        "SELECT author_id, body, via, created_at FROM sag_notes WHERE sag_id = %s ORDER BY id", (case_id,))
    return CasePlan(case["title"], case["description"], case["customer_id"], case["priority"], case["assigned_to"],
                    case["created_by"], case["deadline"] and micros(case["deadline"]), micros(case["created_at"]),
                    tuple((h["to_status"], h["changed_by"], h["note"], micros(h["changed_at"])) for h in history[1:]),
                    tuple((n["author_id"], n["body"], n["via"], micros(n["created_at"])) for n in notes))


def _generate(plan: CasePlan) -> int:
    with database.transaction() as conn:
        result = bulk.write_plans(conn, [[plan]], 1)
    return result.first_id


def _snapshot(case_id: int) -> dict:
    """Everything about a case that does not name the case itself."""
    case = _one("SELECT * FROM sag_sager WHERE id = %s", case_id)
    case.pop("id")  # every other column counts, also those added later (derived ones most of all)
    history = database.execute_query(
        "SELECT from_status, to_status, changed_by, note, changed_at, created_at FROM sag_status_history "
        "WHERE sag_id = %s ORDER BY id", (case_id,))
    clock = _one("SELECT * FROM sag_sla_clocks WHERE sag_id = %s", case_id)
    clock.pop("sag_id")
    notes = database.execute_query(
        "SELECT author_id, body, via, created_at, edited_at, deleted_at FROM sag_notes WHERE sag_id = %s ORDER BY id",
        (case_id,))
    # Rows of every table that points at sag_sager (tables added later count too).
    referring = database.execute_query(
        "SELECT c.conrelid::regclass::text AS tab, a.attname AS col FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.contype = 'f' AND c.confrelid = 'sag_sager'::regclass ORDER BY 1, 2")
    counts = {}
    for ref in referring:
        counts[ref["tab"]] = _one(f"SELECT count(*) AS n FROM {ref['tab']} WHERE {ref['col']} = %s", case_id)["n"]  # noqa: S608 - names from the catalog
    # Watched-case and mention news is about the moment it happens: a generated past sends none
    # (bulk.py), as no one was there to read it.
    queued = database.execute_query(
        "SELECT kind, trigger_type, reminder_id, status, scheduled_for FROM sag_reminder_queue WHERE sag_id = %s "
        "AND kind NOT IN ('watch', 'mention') ORDER BY id", (case_id,))
    return {"case": case, "history": history, "clock": clock, "notes": notes,
            "referring": counts, "queued": queued}


@pytest.fixture(scope="module")
def customer(app) -> int:
    return database.execute_insert("INSERT INTO customers (name) VALUES ('Fjordtech Revision') RETURNING id")


def test_a_generated_closed_case_is_the_same_as_one_made_through_the_app(user_api, customer):
    made = _app_made_case(user_api, customer, STEPS)
    generated = _generate(_plan_of(made))
    assert generated != made
    expected, got = _snapshot(made), _snapshot(generated)
    assert got == expected
    assert got["case"]["version"] == 1 + len(STEPS) and got["case"]["closed_at"] is not None


def test_a_generated_open_case_with_a_deadline_gets_its_deadline_reminder_like_an_app_made_one(
        user_api, admin_user, customer):
    database.execute_insert(
        "INSERT INTO sag_reminders (name, trigger_type, trigger_config, title_template, created_by) "
        "VALUES ('Deadline i morgen', 'deadline', '{\"offset_minutes\": 1440}', 'Snart deadline', %s) RETURNING id",
        (admin_user["id"],))
    made = _app_made_case(user_api, customer, STEPS[:2])
    generated = _generate(_plan_of(made))
    expected, got = _snapshot(made), _snapshot(generated)
    assert got == expected
    assert got["case"]["closed_at"] is None and len(got["queued"]) == 1
    # (Closed generated cases get no cancelled deadline events for their past: see bulk.py.)
    database.execute_update("UPDATE sag_reminders SET active = FALSE WHERE name = 'Deadline i morgen'")


def test_with_an_sla_policy_the_generated_clock_is_the_one_the_trigger_computes(user_api, customer):
    office = [{"start": "08:00", "end": "16:00"}]
    cal = calendars.create_calendar(calendars.CalendarIn(
        name="Bulk office", is_default=True, weekly_hours={d: office for d in businesstime.WEEKDAYS[:5]}))
    database.execute_insert("INSERT INTO sag_sla_policies (name, response_minutes, resolution_minutes) "
                            "VALUES ('Bulk standard', 60, 480) RETURNING id")
    made = _app_made_case(user_api, customer, STEPS)
    generated = _generate(_plan_of(made))
    expected, got = _snapshot(made), _snapshot(generated)
    assert got == expected
    assert got["clock"]["calendar_id"] == cal["id"] and got["clock"]["resolution_due_at"] is not None
    database.execute_update("DELETE FROM sag_sla_policies WHERE name = 'Bulk standard'")


def test_random_cases_have_consistent_history_closed_at_version_and_notes(db):
    before = _one("SELECT count(*) AS n FROM sag_sager")["n"]
    result = bulk.bulk_cases(400, now=datetime(2030, 5, 1, 12, tzinfo=UTC))
    assert result.cases == 400 and result.history >= 400 and result.notes > 0
    assert _one("SELECT count(*) AS n FROM sag_sager")["n"] == before + 400
    bad = database.execute_query(
        """SELECT s.id FROM sag_sager s
           JOIN LATERAL (SELECT count(*) AS n, (array_agg(h.to_status ORDER BY h.id DESC))[1] AS last,
                                (array_agg(h.from_status ORDER BY h.id))[1] AS first_from
                         FROM sag_status_history h WHERE h.sag_id = s.id) h ON TRUE
           JOIN sag_statuses st ON st.key = s.status
           WHERE s.id >= %s AND (h.n <> s.version OR h.last <> s.status OR h.first_from IS NOT NULL
                  OR st.is_closed <> (s.closed_at IS NOT NULL) OR s.updated_at < s.created_at
                  OR NOT EXISTS (SELECT 1 FROM sag_sla_clocks k WHERE k.sag_id = s.id))""",
        (result.first_id,))
    assert bad == []
    # The sequences moved past the generated ids: the app's next case and history row fit.
    next_id = database.execute_insert("INSERT INTO sag_sager (title) VALUES ('Efter bulk') RETURNING id")
    assert next_id == result.first_id + 400
    assert _one("SELECT count(*) AS n FROM sag_status_history WHERE sag_id = %s", next_id)["n"] == 1
    # Rebuilt indexes are back.
    names = {r["indexname"] for r in database.execute_query("SELECT indexname FROM pg_indexes "
                                                             "WHERE tablename = 'sag_sager'")}
    assert "sag_sager_search_trgm_idx" in names and "sag_sager_assigned_open_idx" in names



def _generated_cases(first_id: int, n: int) -> list[dict]:
    return database.execute_query(
        "SELECT title, customer_id, status, assigned_to, deadline, closed_at, version, created_at, updated_at, "
        "notes_search::text AS words FROM sag_sager WHERE id BETWEEN %s AND %s ORDER BY id",
        (first_id, first_id + n - 1))


def test_cases_made_by_several_producer_processes_are_those_of_one_with_the_servers_note_words(db):
    now = datetime(2030, 6, 1, 9, tzinfo=UTC)
    alone = bulk.bulk_cases(300, seed=77, now=now, batch=120, producers=1)
    together = bulk.bulk_cases(300, seed=77, now=now, batch=120, producers=2)
    assert together.cases == 300 and (together.history, together.notes) == (alone.history, alone.notes)
    assert _generated_cases(together.first_id, 300) == _generated_cases(alone.first_id, 300)
    # notes_search is what the notes' own trigger (sag_notes_reindex) computes from the notes.
    differing = database.execute_query(
        """SELECT s.id FROM sag_sager s
           WHERE s.id >= %s AND s.notes_search IS DISTINCT FROM (
               SELECT to_tsvector('simple', string_agg(n.body, E'\\n' ORDER BY n.id))
               FROM sag_notes n WHERE n.sag_id = s.id AND n.deleted_at IS NULL)""", (alone.first_id,))
    assert differing == []
    assert _one("SELECT count(*) AS n FROM sag_sager WHERE id >= %s AND notes_search IS NOT NULL",
                alone.first_id)["n"] > 300
    # Each case's history ids follow its story (the last row is the current status).
    bad = database.execute_query(
        """SELECT s.id FROM sag_sager s
           WHERE s.id >= %s AND s.status <> (SELECT h.to_status FROM sag_status_history h
                                               WHERE h.sag_id = s.id ORDER BY h.id DESC LIMIT 1)""",
        (alone.first_id,))
    assert bad == []
    # The primary keys dropped for the load are back, under their names.
    keys = {r["conname"] for r in database.execute_query(
        "SELECT conname FROM pg_constraint WHERE contype = 'p' AND conrelid::regclass::text = ANY(%s)",
        (list(bulk.TABLES),))}
    assert keys == {f"{t}_pkey" for t in bulk.TABLES}


def test_a_load_writes_its_rows_into_rewritten_tables_without_the_wal(normal_user, customer):
    """At the embedded server's wal_level=minimal the tables a load outgrows get new files in its
    transaction, so their COPY (and the index rebuilds) write next to nothing to the WAL and their
    rows are written frozen; the mark CLUSTER leaves on the primary key is taken off again."""
    assert _one("SELECT current_setting('wal_level') AS level")["level"] == "minimal"
    rng = random.Random(11)
    texts, notes = text_pool(rng), note_pool(rng)
    now = micros(datetime(2030, 7, 1, 8, tzinfo=UTC))
    plans = [random_plan(rng, now, [normal_user["id"]], [customer], texts, notes) for _ in range(2000)]
    with database.transaction() as conn:
        before = conn.execute("SELECT pg_current_wal_insert_lsn() AS lsn").fetchone()["lsn"]
        bulk.write_plans(conn, [plans[:1000], plans[1000:]], len(plans))
        wal = conn.execute("SELECT pg_current_wal_insert_lsn() - %s::pg_lsn AS bytes", (before,)).fetchone()["bytes"]
        written = conn.execute("SELECT sum(pg_total_relation_size(t::regclass)) AS bytes FROM unnest(%s::text[]) t",
                               (list(bulk.TABLES),)).fetchone()["bytes"]
    assert written > 1_000_000 and wal < written / 10, (wal, written)
    # Written frozen (COPY FREEZE into the new files): no reader after the commit sets hint bits on
    # them, which with data checksums would write every page it reads to the WAL once more. Seen
    # from SQL: the pages the multi-row COPY filled (a table without BEFORE row triggers, such as
    # the history) are all-visible at once, which a plain COPY never leaves (ANALYZE counts them).
    database.execute_update("ANALYZE sag_status_history")
    pages = _one("SELECT relpages, relallvisible FROM pg_class WHERE oid = 'sag_status_history'::regclass")
    assert pages["relpages"] > 10 and pages["relallvisible"] > pages["relpages"] / 3, pages
    assert _one("SELECT count(*) AS n FROM pg_index WHERE indisclustered AND indrelid::regclass::text = ANY(%s)",
                list(bulk.TABLES))["n"] == 0
