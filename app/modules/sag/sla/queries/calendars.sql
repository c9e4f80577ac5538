-- name: list_calendars
-- Every calendar with how many customers use it as their own, the default first.
SELECT c.id, c.name, c.timezone, c.country, c.subdivision, c.is_default, c.weekly_hours, c.updated_at,
       (SELECT count(*) FROM sag_customer_calendars cc WHERE cc.calendar_id = c.id) AS customer_count
FROM sag_calendars c
ORDER BY c.is_default DESC, lower(c.name), c.id;

-- name: read_calendar
-- One calendar's own fields.
SELECT id, name, timezone, weekly_hours, country, subdivision, is_default, created_at, updated_at
FROM sag_calendars WHERE id = %(id)s;

-- name: lock_calendar
-- One calendar's own fields, locked for a change.
SELECT id, name, timezone, weekly_hours, country, subdivision, is_default, created_at, updated_at
FROM sag_calendars WHERE id = %(id)s FOR UPDATE;

-- name: read_default_id
-- The default calendar's id (no row when there is none).
SELECT id FROM sag_calendars WHERE is_default;

-- name: read_days
-- A calendar's closed and special-hours dates, in date order.
SELECT day, hours, note FROM sag_calendar_days WHERE calendar_id = %(id)s ORDER BY day;

-- name: read_customers
-- The customers that use this calendar as their own, by name.
SELECT cu.id, cu.name FROM sag_customer_calendars cc JOIN customers cu ON cu.id = cc.customer_id
WHERE cc.calendar_id = %(id)s ORDER BY lower(cu.name), cu.id;

-- name: unset_default
-- Take the default mark off whichever calendar has it (before another one gets it).
UPDATE sag_calendars SET is_default = FALSE WHERE is_default AND id <> %(id)s;

-- name: insert_calendar
-- Store a validated calendar.
INSERT INTO sag_calendars (name, timezone, weekly_hours, country, subdivision, is_default)
VALUES (%(name)s, %(timezone)s, %(weekly_hours)s, %(country)s, %(subdivision)s, %(is_default)s)
RETURNING id;

-- name: update_calendar
-- Replace a calendar's own fields with validated values. Not is_default: setting that column
-- fires the trigger that recomputes every open clock, so it is set (make_default) only when
-- it changes; the hours reach the clocks through the spans written next.
UPDATE sag_calendars
SET name = %(name)s, timezone = %(timezone)s, weekly_hours = %(weekly_hours)s, country = %(country)s,
    subdivision = %(subdivision)s
WHERE id = %(id)s;

-- name: make_default
-- Make this calendar the default (after unset_default took the mark off the old one).
UPDATE sag_calendars SET is_default = TRUE WHERE id = %(id)s AND NOT is_default;

-- name: delete_days
-- Forget a calendar's closed and special dates (before the new list is written).
DELETE FROM sag_calendar_days WHERE calendar_id = %(id)s;

-- name: insert_day
-- One closed (no hours) or special-hours date of a calendar.
INSERT INTO sag_calendar_days (calendar_id, day, hours, note) VALUES (%(id)s, %(day)s, %(hours)s, %(note)s);

-- name: delete_calendar
-- Delete a calendar that is neither the default nor a customer's (its dates go with it).
DELETE FROM sag_calendars WHERE id = %(id)s AND NOT is_default RETURNING id;

-- name: customer_exists
-- Whether a customer exists.
SELECT 1 AS found FROM customers WHERE id = %(customer_id)s;

-- name: set_customer_calendar
-- Give a customer its own calendar (replacing an earlier one).
INSERT INTO sag_customer_calendars (customer_id, calendar_id) VALUES (%(customer_id)s, %(calendar_id)s)
ON CONFLICT (customer_id) DO UPDATE SET calendar_id = EXCLUDED.calendar_id, created_at = now();

-- name: unset_customer_calendar
-- A customer goes back to the default calendar.
DELETE FROM sag_customer_calendars WHERE customer_id = %(customer_id)s RETURNING calendar_id;

-- name: customer_calendar_id
-- The calendar of a customer: its own, else the default (no row when neither exists).
SELECT COALESCE((SELECT calendar_id FROM sag_customer_calendars WHERE customer_id = %(customer_id)s),
                (SELECT id FROM sag_calendars WHERE is_default)) AS id,
       EXISTS (SELECT 1 FROM sag_customer_calendars WHERE customer_id = %(customer_id)s) AS own;

-- name: customer_choices
-- Active customers without a calendar of their own, for the admin page's picker.
SELECT cu.id, cu.name FROM customers cu
WHERE cu.active AND NOT EXISTS (SELECT 1 FROM sag_customer_calendars cc WHERE cc.customer_id = cu.id)
ORDER BY lower(cu.name), cu.id LIMIT %(limit)s;
