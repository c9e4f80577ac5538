-- A batch's whole log write in one round trip: the reservation (sag_reminder_reserve), committed,
-- then the rows (sag_reminder_deliver), committed when the CALL returns. Two transactions as
-- before (the hourly counters stay locked for milliseconds only), one statement for the worker
-- (docs/reminders.md, "Sixth round"); the destinations never leave the server. CALL it outside a
-- transaction block (autocommit): it commits in between. Run again after a failure it counts
-- nothing twice (the reservation is idempotent) and writes no row twice (the log's unique key).
CREATE OR REPLACE PROCEDURE sag_reminder_write_batch(
    p_ids BIGINT[], p_escalate BOOLEAN[], p_now TIMESTAMPTZ, p_default_max INTEGER, p_channels JSONB,
    p_texts JSONB, p_escalated_prefixes JSONB, p_localized JSONB, p_finish_ids BIGINT[],
    INOUT written INTEGER DEFAULT NULL, INOUT delivered INTEGER DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    destinations sag_reminder_destination[];
BEGIN
    -- The reservation's commit (the COMMIT below) need not wait for the disk; the write's commit
    -- (the CALL's last, synchronous as the session says) does, and flushes the reservation with it.
    -- Lost in a server crash, a reservation is lost only together with everything committed after
    -- it (WAL is replayed in order): the write, and any other worker's decision that saw its counts.
    -- The event is then still claimed or pending and is reserved afresh, counting nothing twice; no
    -- row was pushed or e-mailed on it, as those follow the write's commit.
    SET LOCAL synchronous_commit = off;
    destinations := sag_reminder_reserve(p_ids, p_escalate, p_now, p_default_max, p_channels);
    COMMIT;
    SELECT w.written, w.delivered INTO written, delivered
    FROM sag_reminder_deliver(p_ids, p_now, destinations, p_channels, p_texts, p_escalated_prefixes, p_localized,
                              p_finish_ids) AS w;
END;
$$;
