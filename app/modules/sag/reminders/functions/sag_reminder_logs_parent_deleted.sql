-- What the log rows' foreign keys did when a parent row is deleted (migration 015 replaced
-- them on the hot insert path): TG_ARGV[0] names the log column that refers to the deleted
-- rows (`gone`). A case, user or queue event takes its log rows with it; a deleted rule's rows
-- stay, without their rule. Each column has an index that leads with it, except rule_id (the
-- constraint's SET NULL scanned the table too; rules are deleted by hand, rarely).
-- Serialised with the writers: they hold FOR KEY SHARE on the cases and users they write for
-- until they commit, so a delete waits for them and then sees (and removes) their rows.
CREATE OR REPLACE FUNCTION sag_reminder_logs_parent_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    CASE TG_ARGV[0]
        WHEN 'sag_id' THEN
            DELETE FROM sag_reminder_logs l USING gone g WHERE l.sag_id = g.id;
        WHEN 'user_id' THEN
            DELETE FROM sag_reminder_logs l USING gone g WHERE l.user_id = g.id;
        WHEN 'event_id' THEN
            DELETE FROM sag_reminder_logs l USING gone g WHERE l.event_id = g.id;
        WHEN 'rule_id' THEN
            UPDATE sag_reminder_logs l SET rule_id = NULL FROM gone g WHERE l.rule_id = g.id;
    END CASE;
    RETURN NULL;
END;
$$;
