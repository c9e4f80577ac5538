-- name: policies
-- Every SLA policy with its pause statuses, most specific first (the order sag_sla_refresh picks in).
SELECT p.id, p.customer_id, p.priority, p.calendar_id, p.response_minutes, p.resolution_minutes, p.warning_percent,
       ARRAY(SELECT ps.status FROM sag_sla_pause_statuses ps WHERE ps.policy_id = p.id) AS pause
FROM sag_sla_policies p
ORDER BY p.customer_id IS NULL, p.priority IS NULL, p.id;

-- name: closed_statuses
-- The statuses that close a case (they stop the resolution clock).
SELECT key FROM sag_statuses WHERE is_closed;

-- name: customer_calendars
-- Each customer's own calendar.
SELECT customer_id, calendar_id FROM sag_customer_calendars;

-- name: default_calendar
-- The default calendar, if any.
SELECT id FROM sag_calendars WHERE is_default;

-- name: spans
-- Every calendar's stored spans in order, instants as whole microseconds since 1970 (exact: extract is numeric).
SELECT calendar_id, (extract(epoch FROM start_at) * 1000000)::bigint AS start_us,
       (extract(epoch FROM end_at) * 1000000)::bigint AS end_us, open_before, open_after
FROM sag_calendar_spans
ORDER BY calendar_id, start_at;
