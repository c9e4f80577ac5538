-- Working-time arithmetic in SQL over a calendar's stored spans (sag_calendar_spans): the
-- same answers as businesstime.add_working_minutes / working_minutes_between within the
-- stored years, each one or two index lookups. Outside them: before the first stored span
-- counts as its start; an end beyond the last stored span is NULL (unknown).

-- Open seconds of the calendar before instant t, counted from its first stored span.
CREATE OR REPLACE FUNCTION sag_open_seconds(cal INTEGER, t TIMESTAMPTZ) RETURNS DOUBLE PRECISION
LANGUAGE sql STABLE AS $$
    SELECT COALESCE((
        SELECT s.open_before + greatest(0, extract(epoch FROM least(t, s.end_at) - s.start_at))
        FROM sag_calendar_spans s
        WHERE s.calendar_id = cal AND s.start_at <= t
        ORDER BY s.start_at DESC LIMIT 1), 0)::double precision
$$;

-- The instant `minutes` working minutes after t; a stretch ends at a closing time rather
-- than at the next opening (like the Python function). 0 or less: t itself.
CREATE OR REPLACE FUNCTION sag_add_working_minutes(cal INTEGER, t TIMESTAMPTZ, minutes DOUBLE PRECISION)
RETURNS TIMESTAMPTZ
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN minutes IS NULL OR cal IS NULL OR t IS NULL THEN NULL
                WHEN minutes <= 0 THEN t
                ELSE (SELECT s.start_at + make_interval(secs => target.at_seconds - s.open_before)
                      FROM sag_calendar_spans s
                      -- open_after is whole seconds: comparing it with ceil() of the target
                      -- (not with the double itself) lets the (calendar_id, open_after) index answer.
                      WHERE s.calendar_id = cal AND s.open_after >= ceil(target.at_seconds)::bigint
                      ORDER BY s.open_after LIMIT 1)
           END
    FROM (SELECT sag_open_seconds(cal, t) + minutes * 60 AS at_seconds) AS target
$$;

-- Working minutes from a to b (negative when b is before a).
CREATE OR REPLACE FUNCTION sag_working_minutes_between(cal INTEGER, a TIMESTAMPTZ, b TIMESTAMPTZ)
RETURNS DOUBLE PRECISION
LANGUAGE sql STABLE AS $$
    SELECT (sag_open_seconds(cal, b) - sag_open_seconds(cal, a)) / 60
$$;
