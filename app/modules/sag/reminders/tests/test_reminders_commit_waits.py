"""Which of a batch's commits wait for the disk: the log write's (the rows users see; pushes and
e-mails follow it) and not the claim's or the reservation's, whose loss in a server crash only
leaves the event to be claimed again (functions/sag_claim_reminder_events.sql,
sag_reminder_write_batch.sql). The worker's session keeps the setting it was given.
"""

from __future__ import annotations

from app.core import database
from app.modules.sag.reminders.tests.reminders_helpers import clear_queue, make_case, make_rule, set_status, worker
from tests.fixtures import make_user

# Statement triggers that note, for every write to the three tables, its transaction and whether
# that transaction's commit will wait for the disk (this test module's own database).
RECORDER = """
CREATE TABLE commit_waits (id serial PRIMARY KEY, xact bigint, tbl text, sync text);
CREATE FUNCTION note_commit_wait() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO commit_waits (xact, tbl, sync)
    VALUES (txid_current(), TG_TABLE_NAME, current_setting('synchronous_commit'));
    RETURN NULL;
END;
$$;
CREATE TRIGGER note_queue AFTER INSERT OR UPDATE ON sag_reminder_queue
    FOR EACH STATEMENT EXECUTE FUNCTION note_commit_wait();
CREATE TRIGGER note_rate AFTER INSERT OR UPDATE ON sag_reminder_rate
    FOR EACH STATEMENT EXECUTE FUNCTION note_commit_wait();
CREATE TRIGGER note_logs AFTER INSERT ON sag_reminder_logs
    FOR EACH STATEMENT EXECUTE FUNCTION note_commit_wait();
"""


def test_only_the_log_write_waits_for_the_disk(app):
    clear_queue()
    u = make_user()
    make_rule(trigger_config={"from": "new", "to": "in_progress"})
    case = make_case(assigned_to=u["id"])
    # No watched-case news (queued 5 s later, another batch).
    database.execute_update("UPDATE sag_watchers SET unwatched = TRUE WHERE user_id = %s", (u["id"],))
    with database.connect(autocommit=True) as conn:
        conn.execute(RECORDER)
    w = worker()
    try:
        w._connect()
        # As in production: this suite's server is started with synchronous_commit off.
        w.conn.execute("SET synchronous_commit = on")
        w.conn.commit()
        set_status(case["id"], "in_progress")
        assert w.run_once().claimed == 1
        with w.conn.transaction():
            session = w.conn.execute("SELECT current_setting('synchronous_commit') AS s").fetchone()["s"]
    finally:
        w.close()

    notes = database.execute_query("SELECT xact, tbl, sync FROM commit_waits ORDER BY id")
    by_xact: dict[int, tuple[set[str], set[str]]] = {}
    for n in notes:
        tables, syncs = by_xact.setdefault(n["xact"], (set(), set()))
        tables.add(n["tbl"])
        syncs.add(n["sync"])
    claim, reservation, write = by_xact.values()  # in the order they ran
    assert claim == ({"sag_reminder_queue"}, {"off"})
    assert reservation == ({"sag_reminder_rate", "sag_reminder_queue"}, {"off"})
    assert "sag_reminder_logs" in write[0] and write[1] == {"on"}
    assert session == "on"
