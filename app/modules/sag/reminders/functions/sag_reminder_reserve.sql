-- The first half of a batch's log write: count the batch's reminders against each recipient's
-- hourly cap, record on each event whom it may push to (`granted` in its event_data), and
-- return the destinations for sag_reminder_deliver (the columns that differ per row).
-- Its own transaction (sag_reminder_write_batch commits after it), so the per-user counter rows
-- stay locked for milliseconds and workers do not queue behind each other's log writes; the
-- grants on the events make a batch taken over after a crash between the two halves neither
-- count twice nor push more. Idempotent: an event already granted is not counted again.
-- A destination is `fresh` when this reservation is its event's first (the event had no grant
-- yet): every log row is written after its event's reservation, so such an event has none, and
-- sag_reminder_deliver inserts its rows without ON CONFLICT.
CREATE OR REPLACE FUNCTION sag_reminder_reserve(
    p_ids BIGINT[], p_escalate BOOLEAN[], p_now TIMESTAMPTZ, p_default_max INTEGER, p_channels JSONB)
RETURNS sag_reminder_destination[] LANGUAGE plpgsql AS $$
DECLARE
    result sag_reminder_destination[];
BEGIN
    WITH d AS MATERIALIZED (
        -- Materialized: evaluated once per batch (inlined, a plan could re-run it, and with it the
        -- quiet-hours function, for every joined row: half a million calls for a batch of 500).
        SELECT * FROM sag_reminder_destinations(p_ids, p_escalate, p_now, p_default_max, p_channels)
    ), pairs AS (
        -- A reminder (event x user) that delivers now on any rate-limited channel counts once; an event
        -- a previous attempt already reserved for (a crashed worker's batch) is not counted again.
        SELECT DISTINCT d.user_id, d.event_id, d.cap
        FROM d JOIN sag_reminder_queue q ON q.id = d.event_id
        WHERE d.user_id IS NOT NULL AND d.rate_limited AND d.enabled AND d.quiet_until IS NULL
          AND NOT (q.event_data ? 'granted')
    ), ranked AS (
        SELECT pairs.user_id, pairs.event_id, pairs.cap,
               row_number() OVER (PARTITION BY pairs.user_id ORDER BY pairs.event_id) AS rank,
               count(*) OVER (PARTITION BY pairs.user_id) AS n
        FROM pairs
    ), totals AS (
        SELECT ranked.user_id, max(ranked.n)::int AS n FROM ranked GROUP BY ranked.user_id
    ), bumped AS (
        -- Atomic across workers: the row lock serialises concurrent batches for a user, and
        -- used - n is what earlier batches had counted when this one got the lock.
        INSERT INTO sag_reminder_rate AS rt (user_id, window_start, used)
        SELECT totals.user_id, date_trunc('hour', p_now), totals.n FROM totals ORDER BY totals.user_id
        ON CONFLICT (user_id, window_start) DO UPDATE SET used = rt.used + EXCLUDED.used
        RETURNING rt.user_id, rt.used
    ), used AS (
        -- Looked up, not joined: {user id: the user's count with this batch}, one value. The queue's
        -- statistics say nearly every event is granted (its history), so the planner expected one
        -- not-granted event of the batch's 500, and one row on each side of these joins: it chose
        -- nested loops that compared every event with every grant, ~35 ms a batch
        -- (docs/reminders.md, "Tenth round"). A lookup in a JSON object costs the same whatever it
        -- expects.
        SELECT jsonb_object_agg(bumped.user_id::text, bumped.used) AS m FROM bumped
    ), grants AS (
        -- {event id: [the users it may push to]}, one value, as `used`.
        SELECT jsonb_object_agg(g.event_id::text, g.users) AS m
        FROM (SELECT r.event_id,
                     COALESCE(jsonb_agg(r.user_id) FILTER (
                         WHERE r.rank <= r.cap - (((SELECT used.m FROM used) ->> r.user_id::text)::int - r.n)),
                         '[]'::jsonb) AS users
              FROM ranked r GROUP BY r.event_id) AS g
    ), marked AS (
        UPDATE sag_reminder_queue q
        SET event_data = q.event_data || jsonb_build_object(
            'granted', COALESCE((SELECT grants.m FROM grants) -> q.id::text, '[]'::jsonb))
        -- (By the ids, not joined with them: expecting one not-granted event, the planner put the
        -- batch's ids inside a loop over it, 250,000 comparisons a batch.)
        WHERE q.id = ANY (p_ids) AND NOT (q.event_data ? 'granted')
        RETURNING q.id
    ), fresh AS (
        -- {event id: true} of the events granted just now, one value, as `used`.
        SELECT jsonb_object_agg(marked.id::text, TRUE) AS m FROM marked
    )
    SELECT array_agg(ROW(d.event_id, d.user_id, d.email, d.escalated, d.recipient, d.channel, d.enabled,
                         d.quiet_until, d.held, COALESCE((SELECT fresh.m FROM fresh) ? d.event_id::text, FALSE)
                        )::sag_reminder_destination) INTO result
    FROM d;
    RETURN result;
END;
$$;
