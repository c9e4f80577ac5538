-- An e-mail row's outcome (pending -> sent, the worker's record_results) as a HOT update: the
-- new row version on the same page and no new index entry. PostgreSQL makes an update HOT only
-- when no column any index names (key, expression or partial predicate) changes, and three
-- partial indexes named `status` in their predicates: every outcome wrote a new entry into each
-- of the log's four full indexes (pkey, delivery_key, case_idx, user_idx), about 30 us a row.
--
-- The predicates now name stored generated columns that PostgreSQL keeps equal to the old
-- conditions; the writers do not change. pending -> sent changes none of them (an e-mail row is
-- never unread, deferred or held back either way), so `status` is no longer an indexed column.
ALTER TABLE sag_reminder_logs
    ADD COLUMN is_unread BOOLEAN NOT NULL
        GENERATED ALWAYS AS (channel = 'in_app' AND status = 'sent' AND seen_at IS NULL AND dismissed_at IS NULL) STORED,
    ADD COLUMN is_deferred BOOLEAN NOT NULL GENERATED ALWAYS AS (status = 'deferred') STORED,
    ADD COLUMN is_held_back BOOLEAN NOT NULL GENERATED ALWAYS AS (status = 'rate_limited') STORED;

DROP INDEX sag_reminder_logs_unread_idx;
DROP INDEX sag_reminder_logs_deferred_idx;
DROP INDEX sag_reminder_logs_limited_idx;
-- The unread counts (the bell, the list's tab, the profile card).
CREATE INDEX sag_reminder_logs_unread_idx ON sag_reminder_logs (user_id) WHERE is_unread;
-- The quiet-hours digest and the opening-hours release.
CREATE INDEX sag_reminder_logs_deferred_idx ON sag_reminder_logs (user_id, deliver_after) WHERE is_deferred;
-- The held-back notice of one rate window.
CREATE INDEX sag_reminder_logs_limited_idx ON sag_reminder_logs (user_id, created_at) WHERE is_held_back;

-- A HOT update also needs room on the row's page for its new version. A batch writes its rows
-- side by side, in-app and e-mail alike, and updates the e-mail ones milliseconds later, while
-- the old versions cannot be pruned yet: with half the rows e-mails, a page filled to 65 % has
-- room for all their new versions (at 100 % nearly none was HOT). Applies to pages written from now on.
ALTER TABLE sag_reminder_logs SET (fillfactor = 65);
