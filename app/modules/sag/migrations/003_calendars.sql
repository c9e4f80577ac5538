-- Business-hours calendars (SLA clocks run on them): the calendars, their closed and
-- special-hours dates, and the calendar of a customer that has its own.

-- The two validation functions below are a copy of sla/functions/sag_calendar_hours.sql, made
-- here because this branch's migration runner does not apply function files yet; once it
-- does, the function file alone creates them and this copy goes.
-- Whether a JSON value is a list of opening intervals [{"start": "08:00", "end": "12:00"}, ...]:
-- times of day as HH:MM (end may be 24:00), each interval ending after it starts. The API's
-- pydantic models say the same (and also refuse overlaps); this keeps hand-written rows honest.
CREATE OR REPLACE FUNCTION sag_valid_hours(hours jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_typeof(hours) = 'array' AND NOT EXISTS (
        SELECT 1 FROM jsonb_array_elements(hours) AS iv
        WHERE jsonb_typeof(iv) <> 'object'
           OR (iv - 'start' - 'end') <> '{}'::jsonb
           OR NOT coalesce(iv->>'start' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$', false)
           OR NOT coalesce(iv->>'end' ~ '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$', false)
           OR iv->>'start' >= iv->>'end')
$$;

-- Whether a JSON value is a week of opening hours: an object whose keys are weekdays
-- (mon .. sun; a missing day is closed) and whose values are interval lists.
CREATE OR REPLACE FUNCTION sag_valid_week(week jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_typeof(week) = 'object'
       AND (week - ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) = '{}'::jsonb
       AND NOT EXISTS (SELECT 1 FROM jsonb_each(week) AS d WHERE NOT sag_valid_hours(d.value))
$$;

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
