-- Claim a batch: due pending events plus processing events whose worker's lease expired
-- (a crashed worker's batch is taken over). SKIP LOCKED lets any number of workers claim at once.
-- NO KEY UPDATE: the key-share locks that log inserts take on their event (foreign key) must not
-- make a claimer skip an event, e.g. one whose dead worker's backend has not yet gone away.
CREATE OR REPLACE FUNCTION sag_claim_reminder_events(
    p_worker TEXT, p_limit INTEGER, p_lease_s DOUBLE PRECISION, p_now TIMESTAMPTZ)
RETURNS SETOF sag_reminder_queue LANGUAGE plpgsql AS $$
BEGIN
    -- Status-change firings waiting in the inbox become queue rows (due at their change time).
    -- The inbox has no index: the oldest firings are picked from a scan and deleted by ctid
    -- (inbox rows are never updated, and the row lock keeps the ctid ours until the delete).
    WITH picked AS (
        SELECT ctid FROM sag_reminder_inbox ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED
    ), moved AS (
        DELETE FROM sag_reminder_inbox
        WHERE ctid = ANY (ARRAY(SELECT ctid FROM picked))
        RETURNING reminder_id, sag_id, event_data, created_at, id
    )
    INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, event_data, scheduled_for,
                                    created_at, updated_at)
    SELECT reminder_id, sag_id, 'rule', 'status_change', event_data, created_at, created_at, created_at
    FROM moved ORDER BY id;

    RETURN QUERY
    WITH due AS (
        SELECT id FROM sag_reminder_queue
        WHERE status = 'pending' AND scheduled_for <= p_now
        ORDER BY scheduled_for
        LIMIT p_limit
        FOR NO KEY UPDATE SKIP LOCKED
    ), expired AS (
        SELECT id FROM sag_reminder_queue
        WHERE status = 'processing' AND lease_expires_at < p_now
        ORDER BY lease_expires_at
        LIMIT p_limit
        FOR NO KEY UPDATE SKIP LOCKED
    )
    UPDATE sag_reminder_queue q
    SET status = 'processing', lease_owner = p_worker,
        lease_expires_at = p_now + make_interval(secs => p_lease_s),
        attempts = q.attempts + 1, updated_at = p_now
    WHERE q.id IN (SELECT id FROM due UNION ALL SELECT id FROM expired)
    RETURNING q.*;
END;
$$;
