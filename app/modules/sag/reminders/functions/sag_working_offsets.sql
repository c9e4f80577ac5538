-- Reminders in working time: rule offsets counted in a calendar's working hours or working
-- days, and "is the calendar open now, else when does it open" for the opening-hours option.
-- All over the stored spans (sla/functions/sag_working_time.sql); an instant beyond the
-- stored years is NULL (unknown), as there.

-- A calendar named in a rule: 'default' (or NULL) is the default calendar; a name that no
-- longer exists (renamed or deleted since the rule was saved) also counts as the default.
CREATE OR REPLACE FUNCTION sag_calendar_named(p_name TEXT) RETURNS INTEGER
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        (SELECT id FROM sag_calendars WHERE p_name IS NOT NULL AND lower(p_name) <> 'default'
                                        AND lower(name) = lower(p_name)),
        (SELECT id FROM sag_calendars WHERE is_default))
$$;

-- The instant `minutes` working minutes after t, or before it when negative. Backwards, a
-- count that ends exactly at a closing lands on the next opening (the later of the two
-- instants with the same working-time position), as businesstime.add_working_minutes does.
CREATE OR REPLACE FUNCTION sag_shift_working_minutes(cal INTEGER, t TIMESTAMPTZ, minutes DOUBLE PRECISION)
RETURNS TIMESTAMPTZ
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN minutes IS NULL OR cal IS NULL OR t IS NULL THEN NULL
                WHEN minutes >= 0 THEN sag_add_working_minutes(cal, t, minutes)
                ELSE (SELECT s.start_at + make_interval(secs => target.at_seconds - s.open_before)
                      FROM sag_calendar_spans s
                      WHERE s.calendar_id = cal AND s.open_after > target.at_seconds
                        AND target.at_seconds >= 0
                      ORDER BY s.open_after LIMIT 1)
           END
    FROM (SELECT sag_open_seconds(cal, t) + minutes * 60 AS at_seconds) AS target
$$;

-- The same local time of day `days` working days later (earlier when negative): a working day
-- is a local date on which the calendar is open at all. Thursday 14:00 minus 2 working days
-- with the weekend closed is Monday 14:00; with Monday a holiday, the Friday before.
CREATE OR REPLACE FUNCTION sag_shift_working_days(cal INTEGER, t TIMESTAMPTZ, days INTEGER)
RETURNS TIMESTAMPTZ
LANGUAGE plpgsql STABLE AS $$
DECLARE
    tz TEXT;
    day DATE;
    left_ INTEGER := abs(days);
    step INTEGER := CASE WHEN days < 0 THEN -1 ELSE 1 END;
    tried INTEGER := 0;
BEGIN
    IF cal IS NULL OR t IS NULL OR days IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT timezone INTO tz FROM sag_calendars WHERE id = cal;
    day := (t AT TIME ZONE tz)::date;
    -- Bounded: a calendar open on no day for a year (or no stored spans) gives NULL.
    WHILE left_ > 0 AND tried < 366 + 7 * abs(days) LOOP
        day := day + step;
        tried := tried + 1;
        IF EXISTS (SELECT 1 FROM sag_calendar_spans s
                   WHERE s.calendar_id = cal
                     AND s.start_at < ((day + 1)::timestamp AT TIME ZONE tz)
                     AND s.end_at > (day::timestamp AT TIME ZONE tz)) THEN
            left_ := left_ - 1;
        END IF;
    END LOOP;
    IF left_ > 0 THEN
        RETURN NULL;
    END IF;
    RETURN (day + (t AT TIME ZONE tz)::time) AT TIME ZONE tz;
END;
$$;

-- A deadline or inactivity offset of a rule's trigger_config applied to t in `direction`
-- (-1 = before, 1 = after): offset_minutes / offset_hours / hours as minutes, offset_days /
-- days as days; in working time of trigger_config.calendar when it names one, else wall-clock.
CREATE OR REPLACE FUNCTION sag_rule_offset(cfg JSONB, t TIMESTAMPTZ, direction INTEGER)
RETURNS TIMESTAMPTZ
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN NOT (cfg ? 'calendar') THEN
            t + direction * make_interval(mins => COALESCE((cfg->>'offset_minutes')::int, 0)
                                                  + 60 * COALESCE((cfg->>'offset_hours')::int, (cfg->>'hours')::int, 0),
                                          days => COALESCE((cfg->>'offset_days')::int, (cfg->>'days')::int, 0))
        WHEN COALESCE(cfg ? 'offset_days', FALSE) OR cfg ? 'days' THEN
            sag_shift_working_days(sag_calendar_named(cfg->>'calendar'), t,
                                   direction * COALESCE((cfg->>'offset_days')::int, (cfg->>'days')::int))
        ELSE
            sag_shift_working_minutes(sag_calendar_named(cfg->>'calendar'), t,
                                      direction * (COALESCE((cfg->>'offset_minutes')::int, 0)
                                                   + 60 * COALESCE((cfg->>'offset_hours')::int, (cfg->>'hours')::int, 0)))
    END
$$;

-- NULL while calendar `cal` is open at t (or has no stored hours after t: better delivered than
-- held for ever); else the instant it next opens.
CREATE OR REPLACE FUNCTION sag_closed_until(cal INTEGER, t TIMESTAMPTZ) RETURNS TIMESTAMPTZ
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN cal IS NULL OR t IS NULL THEN NULL
                WHEN EXISTS (SELECT 1 FROM (SELECT s.end_at FROM sag_calendar_spans s
                                            WHERE s.calendar_id = cal AND s.start_at <= t
                                            ORDER BY s.start_at DESC LIMIT 1) AS last
                             WHERE last.end_at > t) THEN NULL
                ELSE (SELECT min(s.start_at) FROM sag_calendar_spans s WHERE s.calendar_id = cal AND s.start_at > t)
           END
$$;
