-- Business-hours calendars (SLA clocks run on them): the calendars, their closed and
-- special-hours dates, and the calendar of a customer that has its own.

-- The hour checks (sag_valid_hours, sag_valid_week) are in sla/functions/sag_calendar_hours.sql.

CREATE TABLE sag_calendars (
    id            SERIAL PRIMARY KEY,
    name          VARCHAR(80) NOT NULL CHECK (btrim(name) <> '' AND name = btrim(name)),
    timezone      VARCHAR(64) NOT NULL DEFAULT 'Europe/Copenhagen',
    -- {"mon": [{"start": "08:00", "end": "12:00"}, {"start": "12:30", "end": "16:00"}], ...}
    weekly_hours  JSONB NOT NULL DEFAULT '{}' CHECK (sag_valid_week(weekly_hours)),
    -- Public holidays of this ISO 3166 country (and subdivision) from the holidays package;
    -- NULL country = no public holidays.
    country       VARCHAR(3) CHECK (country ~ '^[A-Z]{2,3}$'),
    subdivision   VARCHAR(10) CHECK (subdivision ~ '^[A-Za-z0-9]{1,10}$'),
    is_default    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (subdivision IS NULL OR country IS NOT NULL)
);
CREATE UNIQUE INDEX sag_calendars_name_idx ON sag_calendars (lower(name));
-- At most one default calendar; the API moves the mark in one transaction.
CREATE UNIQUE INDEX sag_calendars_one_default_idx ON sag_calendars (is_default) WHERE is_default;
CREATE TRIGGER sag_calendars_set_updated_at BEFORE UPDATE ON sag_calendars
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- A date whose hours differ from the week's: no intervals = closed (a custom closed date),
-- otherwise special hours (a half day, or opening on a public holiday). One row per date,
-- so a date cannot be closed and special at once.
CREATE TABLE sag_calendar_days (
    calendar_id  INTEGER NOT NULL REFERENCES sag_calendars(id) ON DELETE CASCADE,
    day          DATE NOT NULL,
    hours        JSONB NOT NULL DEFAULT '[]' CHECK (sag_valid_hours(hours)),
    note         VARCHAR(120) NOT NULL DEFAULT '',
    PRIMARY KEY (calendar_id, day)
);

-- A customer with its own calendar (the others use the default calendar). Kept here rather
-- than as a column of the core customers table, which knows nothing of sag. A calendar in
-- use by a customer cannot be deleted.
CREATE TABLE sag_customer_calendars (
    customer_id  INTEGER PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
    calendar_id  INTEGER NOT NULL REFERENCES sag_calendars(id) ON DELETE RESTRICT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sag_customer_calendars_calendar_idx ON sag_customer_calendars (calendar_id);
