-- One destination of a batch's log write (sag_reminder_reserve's result, sag_reminder_deliver's
-- input): the columns of sag_reminder_destinations that differ per row. Handed from the one
-- function to the other as an array of this type inside the server, so no row is converted to
-- JSON and back (about a fifth of the reservation's time for a batch of 500 as JSONB).
CREATE TYPE sag_reminder_destination AS (
    event_id    BIGINT,
    user_id     INTEGER,
    email       TEXT,
    escalated   BOOLEAN,
    recipient   TEXT,
    channel     TEXT,
    enabled     BOOLEAN,
    quiet_until TIMESTAMPTZ,
    held        BOOLEAN
);
