-- The insert half of what the log rows' foreign keys did (migration 015 replaced the per-row
-- checks on the hot path): every writer's new rows must name an existing event, case, user and
-- rule, checked once per statement over all its rows. The parents are locked FOR KEY SHARE, as
-- the checks locked them, so a delete waits for the writer to commit and then takes the rows
-- with it (sag_reminder_logs_parent_deleted). deliver_batch locks the same rows first, in the
-- same order, and leaves out rows whose case or user is gone: for it this finds nothing.
CREATE OR REPLACE FUNCTION sag_reminder_logs_check_references() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad RECORD;
BEGIN
    PERFORM 1 FROM sag_sager WHERE id IN (SELECT sag_id FROM added_logs) ORDER BY id FOR KEY SHARE;
    PERFORM 1 FROM users WHERE id IN (SELECT user_id FROM added_logs) ORDER BY id FOR KEY SHARE;
    PERFORM 1 FROM sag_reminders WHERE id IN (SELECT rule_id FROM added_logs) ORDER BY id FOR KEY SHARE;
    PERFORM 1 FROM sag_reminder_queue WHERE id IN (SELECT event_id FROM added_logs) ORDER BY id FOR KEY SHARE;
    SELECT a.id, a.event_id, a.rule_id, a.sag_id, a.user_id,
           CASE WHEN NOT EXISTS (SELECT 1 FROM sag_reminder_queue q WHERE q.id = a.event_id) THEN 'event_id'
                WHEN a.sag_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sag_sager s WHERE s.id = a.sag_id) THEN 'sag_id'
                WHEN a.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.user_id) THEN 'user_id'
                WHEN a.rule_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sag_reminders r WHERE r.id = a.rule_id)
                    THEN 'rule_id'
           END AS missing
    INTO bad
    FROM added_logs a
    WHERE NOT EXISTS (SELECT 1 FROM sag_reminder_queue q WHERE q.id = a.event_id)
       OR (a.sag_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sag_sager s WHERE s.id = a.sag_id))
       OR (a.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.user_id))
       OR (a.rule_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sag_reminders r WHERE r.id = a.rule_id))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert into sag_reminder_logs: % = % does not exist', bad.missing,
            CASE bad.missing WHEN 'event_id' THEN bad.event_id WHEN 'sag_id' THEN bad.sag_id
                             WHEN 'user_id' THEN bad.user_id ELSE bad.rule_id END
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;
