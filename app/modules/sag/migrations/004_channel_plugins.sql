-- Delivery channels and event kinds become plug-ins (reminders/channels/, reminders/kinds.py):
-- the tables no longer list them (the destinations function, in
-- reminders/functions/sag_reminder_destinations.sql, takes the channels' flags as a parameter).

-- A channel or kind is any registered name (the registries in Python decide which exist);
-- the database still keeps the names well-formed and short.
ALTER TABLE sag_reminders DROP CONSTRAINT sag_reminders_channels_check;
ALTER TABLE sag_reminders ADD CONSTRAINT sag_reminders_channels_check
    CHECK (cardinality(channels) BETWEEN 1 AND 8
           AND array_to_string(channels, ',') ~ '^[a-z][a-z0-9_]{0,19}(,[a-z][a-z0-9_]{0,19})*$');

ALTER TABLE sag_reminder_logs DROP CONSTRAINT sag_reminder_logs_channel_check;
ALTER TABLE sag_reminder_logs ALTER COLUMN channel TYPE VARCHAR(20);
ALTER TABLE sag_reminder_logs ADD CONSTRAINT sag_reminder_logs_channel_check
    CHECK (channel ~ '^[a-z][a-z0-9_]{0,19}$');

ALTER TABLE sag_reminder_queue DROP CONSTRAINT sag_reminder_queue_kind_check;
ALTER TABLE sag_reminder_queue ALTER COLUMN kind TYPE VARCHAR(20);
ALTER TABLE sag_reminder_queue ADD CONSTRAINT sag_reminder_queue_kind_check
    CHECK (kind ~ '^[a-z][a-z0-9_]{0,19}$');
