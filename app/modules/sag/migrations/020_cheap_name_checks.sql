-- The same name rules for a log row's channel and a queued event's kind, checked without a
-- bounded repetition. PostgreSQL checks a table's CHECK constraints on every INSERT and on every
-- UPDATE, whatever the UPDATE changes: each event passes these six to seven times (four log rows
-- written, two marked sent; claimed, granted, finished). A regex with `{0,19}` / `{1,40}` is
-- expanded into a large automaton and cost 1.5 µs a row (0.7 µs the kind's): a sixth of a log
-- row's insert (docs/reminders.md, "Eleventh round").
-- Now the built-in names are one comparison each, and any other name is matched by an unbounded
-- pattern with its length checked apart (0.25 µs): the same names pass as before.
ALTER TABLE sag_reminder_logs
    DROP CONSTRAINT sag_reminder_logs_channel_check,
    ADD CONSTRAINT sag_reminder_logs_channel_check
        CHECK (channel IN ('in_app', 'email')
               OR (channel ~ '^([a-z][a-z0-9_]*|dest:[a-z0-9-]+)$'
                   -- a name up to 20 characters; a destination's slug up to 40 after `dest:`
                   AND length(channel) <= CASE WHEN channel LIKE 'dest:%' THEN 45 ELSE 20 END));

ALTER TABLE sag_reminder_queue
    DROP CONSTRAINT sag_reminder_queue_kind_check,
    ADD CONSTRAINT sag_reminder_queue_kind_check
        CHECK (kind IN ('rule', 'repeat') OR (kind ~ '^[a-z][a-z0-9_]*$' AND length(kind) <= 20));
