-- Chat and webhook destinations of reminders (reminders/destinations.py): a named Apprise URL
-- that a rule names as the channel `dest:<slug>`; one message per firing goes there.
-- The URL carries its service's token, so it is stored sealed (app/core/sealing.py); only its
-- scheme and host are kept readable, for the pages.
CREATE TABLE sag_destinations (
    id          SERIAL PRIMARY KEY,
    name        VARCHAR(80) NOT NULL CHECK (btrim(name) <> '' AND name = btrim(name)),
    -- Set from the name when the destination is created and never changed: rules name it.
    slug        VARCHAR(40) NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    url_sealed  TEXT NOT NULL CHECK (url_sealed LIKE 'v1.%'),
    url_scheme  VARCHAR(32) NOT NULL,
    url_host    VARCHAR(255) NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sag_destinations_name_idx ON sag_destinations (lower(name));
CREATE TRIGGER sag_destinations_set_updated_at BEFORE UPDATE ON sag_destinations
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Rules and log rows may name a destination channel beside the registered ones.
ALTER TABLE sag_reminders DROP CONSTRAINT sag_reminders_channels_check;
ALTER TABLE sag_reminders ADD CONSTRAINT sag_reminders_channels_check
    CHECK (cardinality(channels) BETWEEN 1 AND 8
           AND array_to_string(channels, ',')
               ~ '^([a-z][a-z0-9_]{0,19}|dest:[a-z0-9-]{1,40})(,([a-z][a-z0-9_]{0,19}|dest:[a-z0-9-]{1,40}))*$');

ALTER TABLE sag_reminder_logs DROP CONSTRAINT sag_reminder_logs_channel_check;
ALTER TABLE sag_reminder_logs ALTER COLUMN channel TYPE VARCHAR(45);
ALTER TABLE sag_reminder_logs ADD CONSTRAINT sag_reminder_logs_channel_check
    CHECK (channel ~ '^([a-z][a-z0-9_]{0,19}|dest:[a-z0-9-]{1,40})$');

-- A destination's page lists its latest deliveries.
CREATE INDEX sag_reminder_logs_destination_idx ON sag_reminder_logs (channel, id) WHERE channel LIKE 'dest:%';
