-- End of the quiet period `p_now` falls in (in the user's zone), or NULL when not quiet.
-- Handles periods over midnight (22:00-07:00); DST is PostgreSQL's zone arithmetic.
CREATE OR REPLACE FUNCTION sag_quiet_until(p_tz TEXT, p_start TIME, p_end TIME, p_now TIMESTAMPTZ)
RETURNS TIMESTAMPTZ LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_start IS NULL OR p_end IS NULL OR p_start = p_end THEN NULL
        WHEN p_start < p_end THEN
            CASE WHEN lt::time >= p_start AND lt::time < p_end THEN (lt::date + p_end) AT TIME ZONE p_tz END
        WHEN lt::time >= p_start THEN ((lt::date + 1) + p_end) AT TIME ZONE p_tz
        WHEN lt::time < p_end THEN (lt::date + p_end) AT TIME ZONE p_tz
    END
    FROM (SELECT CASE WHEN p_start IS NULL THEN NULL ELSE p_now AT TIME ZONE p_tz END AS lt) AS local_now
$$;
