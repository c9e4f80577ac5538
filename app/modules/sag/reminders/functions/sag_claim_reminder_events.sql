-- Claim a batch: the oldest due work, status-change firings from the inbox and due pending
-- events alike, plus processing events whose worker's lease expired (a crashed worker's batch
-- is taken over). SKIP LOCKED lets any number of workers claim at once.
-- NO KEY UPDATE: the key-share locks that log writes take on their event must not make a
-- claimer skip an event, e.g. one whose dead worker's backend has not yet gone away.
-- ROWS: what claim_batch plans its joins (rule, case, status, customer, assignee) for. At the
-- default 1,000 it hashed the whole case table to join an idle worker's one event (a third of
-- the claim's server time with a few hundred cases); at 10 it looks each up by key, which is as
-- fast for a full batch of 500 (docs/reminders.md, "Latency, seventh round").
CREATE OR REPLACE FUNCTION sag_claim_reminder_events(
    p_worker TEXT, p_limit INTEGER, p_lease_s DOUBLE PRECISION, p_now TIMESTAMPTZ)
RETURNS SETOF sag_reminder_queue LANGUAGE plpgsql ROWS 10 AS $$
BEGIN
    -- The claim's commit need not wait for the disk (the caller's transaction: the worker runs the
    -- claim as one of its own, events.alone). Lost in a server crash, a claim leaves its events as
    -- they were (firings back in the inbox, events pending or with their old expired lease,
    -- attempts uncounted), to be claimed again; nothing outside the database has happened on it
    -- yet. WAL is replayed in order, so whatever anyone committed after seeing the claim is lost
    -- with it, and the next commit that waits (the log write's) flushes it too. A worker killed
    -- (the server up) changes nothing: the commit is visible at once either way.
    PERFORM set_config('synchronous_commit', 'off', true);
    RETURN QUERY
    WITH picked AS (
        -- Status-change firings waiting in the inbox (due at their change time). The inbox has
        -- no index: the oldest firings are picked from a scan and deleted by ctid (inbox rows are
        -- never updated, and the row lock keeps the ctid ours until the delete).
        SELECT i.ctid AS at_ctid, i.id, i.created_at FROM sag_reminder_inbox i
        ORDER BY i.id LIMIT p_limit FOR UPDATE SKIP LOCKED
    ), due AS (
        SELECT q.id, q.scheduled_for FROM sag_reminder_queue q
        WHERE q.status = 'pending' AND q.scheduled_for <= p_now
        ORDER BY q.scheduled_for
        LIMIT p_limit
        FOR NO KEY UPDATE SKIP LOCKED
    ), chosen AS MATERIALIZED (
        -- The oldest of both (a firing not chosen stays in the inbox for the next claim).
        SELECT c.at_ctid, c.id FROM (
            SELECT p.at_ctid, NULL::bigint AS id, p.created_at AS due_at, p.id AS inbox_id FROM picked p
            UNION ALL
            SELECT NULL::tid, d.id, d.scheduled_for, NULL::bigint FROM due d
        ) AS c
        ORDER BY c.due_at, c.inbox_id
        LIMIT p_limit
    ), moved AS (
        DELETE FROM sag_reminder_inbox
        WHERE ctid = ANY (ARRAY(SELECT at_ctid FROM chosen WHERE at_ctid IS NOT NULL))
        RETURNING reminder_id, sag_id, event_data, created_at, id
    ), inserted AS (
        -- A firing becomes a queue row already claimed: written once, not queued and then updated.
        INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, event_data, scheduled_for,
                                        status, lease_owner, lease_expires_at, attempts, created_at, updated_at)
        SELECT m.reminder_id, m.sag_id, 'rule', 'status_change', m.event_data, m.created_at,
               'processing', p_worker, p_now + make_interval(secs => p_lease_s), 1, m.created_at, p_now
        FROM moved m ORDER BY m.id
        RETURNING *
    ), expired AS (
        SELECT q.id FROM sag_reminder_queue q
        WHERE q.status = 'processing' AND q.lease_expires_at < p_now
        ORDER BY q.lease_expires_at
        LIMIT p_limit
        FOR NO KEY UPDATE SKIP LOCKED
    ), updated AS (
        UPDATE sag_reminder_queue q
        SET status = 'processing', lease_owner = p_worker,
            lease_expires_at = p_now + make_interval(secs => p_lease_s),
            attempts = q.attempts + 1, updated_at = p_now
        WHERE q.id IN (SELECT c.id FROM chosen c WHERE c.id IS NOT NULL UNION ALL SELECT e.id FROM expired e)
        RETURNING q.*
    )
    SELECT * FROM inserted UNION ALL SELECT * FROM updated;
END;
$$;
