-- The reminder log's hot insert path (issue 13): a batch writes 1,000-2,000 log rows, and each
-- row's four foreign-key checks (event, rule, case, user) were a trigger call with a query and
-- a row lock apiece, about 40 % of the insert's cost. The references are kept, set-based:
-- - the writers of a batch (deliver_batch, worker.sql) lock the batch's cases and users once
--   (FOR KEY SHARE, as the checks did) and write only rows whose event, case and user exist; a
--   rule deleted meanwhile leaves its rows without a rule, as ON DELETE SET NULL did;
-- - what the constraints did when a parent goes is done by statement triggers on the parents
--   (reminders/functions/sag_reminder_logs_parent_deleted.sql): a deleted case, user or queue
--   event deletes its log rows, a deleted rule sets their rule_id to NULL.
-- group_id (a row's group row in the same table, NULL when written) keeps its constraint.
ALTER TABLE sag_reminder_logs
    DROP CONSTRAINT sag_reminder_logs_event_id_fkey,
    DROP CONSTRAINT sag_reminder_logs_rule_id_fkey,
    DROP CONSTRAINT sag_reminder_logs_sag_id_fkey,
    DROP CONSTRAINT sag_reminder_logs_user_id_fkey;

CREATE TRIGGER sag_sager_delete_reminder_logs AFTER DELETE ON sag_sager
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION sag_reminder_logs_parent_deleted('sag_id');
CREATE TRIGGER users_delete_reminder_logs AFTER DELETE ON users
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION sag_reminder_logs_parent_deleted('user_id');
CREATE TRIGGER sag_reminder_queue_delete_logs AFTER DELETE ON sag_reminder_queue
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION sag_reminder_logs_parent_deleted('event_id');
CREATE TRIGGER sag_reminders_delete_logs AFTER DELETE ON sag_reminders
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION sag_reminder_logs_parent_deleted('rule_id');

