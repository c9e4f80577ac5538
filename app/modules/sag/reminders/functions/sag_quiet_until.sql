-- End of the quiet period `p_now` falls in (in the user's zone), or NULL when not quiet.
-- Handles periods over midnight (22:00-07:00); DST is PostgreSQL's zone arithmetic.
-- One expression without FROM, so the planner inlines it into the calling query: a SQL function
-- it cannot inline starts an executor of its own in every statement that calls it (a fixed cost
-- of each batch write; docs/reminders.md, "Eighth round").
CREATE OR REPLACE FUNCTION sag_quiet_until(p_tz TEXT, p_start TIME, p_end TIME, p_now TIMESTAMPTZ)
RETURNS TIMESTAMPTZ LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_start IS NULL OR p_end IS NULL OR p_start = p_end THEN NULL
        WHEN p_start < p_end THEN
            CASE WHEN (p_now AT TIME ZONE p_tz)::time >= p_start AND (p_now AT TIME ZONE p_tz)::time < p_end
                 THEN ((p_now AT TIME ZONE p_tz)::date + p_end) AT TIME ZONE p_tz END
        WHEN (p_now AT TIME ZONE p_tz)::time >= p_start THEN (((p_now AT TIME ZONE p_tz)::date + 1) + p_end) AT TIME ZONE p_tz
        WHEN (p_now AT TIME ZONE p_tz)::time < p_end THEN ((p_now AT TIME ZONE p_tz)::date + p_end) AT TIME ZONE p_tz
    END
$$;
