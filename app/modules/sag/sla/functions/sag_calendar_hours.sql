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
-- It calls sag_valid_hours from a CHECK constraint: pg_dump's restore loads the rows with an
-- empty search_path, so the function keeps the search_path it was created with.
CREATE OR REPLACE FUNCTION sag_valid_week(week jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path FROM CURRENT AS $$
    SELECT jsonb_typeof(week) = 'object'
       AND (week - ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) = '{}'::jsonb
       AND NOT EXISTS (SELECT 1 FROM jsonb_each(week) AS d WHERE NOT sag_valid_hours(d.value))
$$;
