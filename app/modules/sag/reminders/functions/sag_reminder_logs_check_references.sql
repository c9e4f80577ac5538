-- The insert half of what the log rows' foreign keys did (migration 015 replaced the per-row
-- checks on the hot path): every writer's new rows must name an existing event, case, user and
-- rule, checked once per statement over all its rows. The parents are locked FOR KEY SHARE, as
-- the checks locked them, so a delete waits for the writer to commit and then takes the rows
-- with it (sag_reminder_logs_parent_deleted).
-- Locking is the check: a parent that is gone (or deleted while we waited) is not locked, so
-- fewer rows are locked than the statement names; only then are the rows read again to name one.
-- sag_reminder_deliver locks and filters the same references itself and says so for its one
-- INSERT (`sag.references_locked`, transaction-local): then there is nothing left to check.
CREATE OR REPLACE FUNCTION sag_reminder_logs_check_references() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad RECORD;
BEGIN
    IF current_setting('sag.references_locked', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF (SELECT count(*) FROM (SELECT 1 FROM sag_sager WHERE id IN (SELECT sag_id FROM added_logs)
                              ORDER BY id FOR KEY SHARE) s) = (SELECT count(DISTINCT sag_id) FROM added_logs)
       AND (SELECT count(*) FROM (SELECT 1 FROM users WHERE id IN (SELECT user_id FROM added_logs)
                                  ORDER BY id FOR KEY SHARE) u) = (SELECT count(DISTINCT user_id) FROM added_logs)
       AND (SELECT count(*) FROM (SELECT 1 FROM sag_reminders WHERE id IN (SELECT rule_id FROM added_logs)
                                  ORDER BY id FOR KEY SHARE) r) = (SELECT count(DISTINCT rule_id) FROM added_logs)
       AND (SELECT count(*) FROM (SELECT 1 FROM sag_reminder_queue WHERE id IN (SELECT event_id FROM added_logs)
                                  ORDER BY id FOR KEY SHARE) q) = (SELECT count(DISTINCT event_id) FROM added_logs)
    THEN
        RETURN NULL;
    END IF;
    SELECT ref.col, ref.id INTO bad
    FROM added_logs a
    CROSS JOIN LATERAL (VALUES
        ('event_id', a.event_id, EXISTS (SELECT 1 FROM sag_reminder_queue q WHERE q.id = a.event_id)),
        ('sag_id', a.sag_id, EXISTS (SELECT 1 FROM sag_sager s WHERE s.id = a.sag_id)),
        ('user_id', a.user_id, EXISTS (SELECT 1 FROM users u WHERE u.id = a.user_id)),
        ('rule_id', a.rule_id, EXISTS (SELECT 1 FROM sag_reminders r WHERE r.id = a.rule_id))
    ) AS ref (col, id, present)
    WHERE ref.id IS NOT NULL AND NOT ref.present
    LIMIT 1;
    RAISE EXCEPTION 'insert into sag_reminder_logs: % = % does not exist', bad.col, bad.id
        USING ERRCODE = 'foreign_key_violation';
END;
$$;
