-- Migration 015 replaced the log rows' per-row foreign-key checks with one set-based check in
-- deliver_batch; this makes the check PostgreSQL's again, for every writer (summaries, storm
-- groups, a module's own inserts), once per statement: sag_reminder_logs_check_references.
-- The referencing columns are written only on insert (a deleted rule's SET NULL aside), so
-- there is no update half.
CREATE TRIGGER sag_reminder_logs_check_references AFTER INSERT ON sag_reminder_logs
    REFERENCING NEW TABLE AS added_logs FOR EACH STATEMENT EXECUTE FUNCTION sag_reminder_logs_check_references();
