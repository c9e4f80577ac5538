-- name: case_clock
-- One case's clock row with its warn instants, closing time and the database's now.
SELECT s.id, s.version, s.status, s.closed_at, k.calendar_id, k.first_response_at, k.response_due_at,
       k.response_warn_at, k.resolution_due_at, k.resolution_warn_at, k.paused_minutes, k.paused_since,
       CASE WHEN k.paused_since IS NOT NULL AND k.paused_since < k.resolution_due_at
            THEN round(sag_working_minutes_between(k.calendar_id, k.paused_since, k.resolution_due_at)) END
           AS paused_minutes_left,
       now() AS now
FROM sag_sager s
LEFT JOIN sag_sla_clocks k ON k.sag_id = s.id
WHERE s.id = %(id)s;

-- name: open_spans
-- The calendar's open spans between two instants (the browser counts working time left on them).
SELECT start_at, end_at FROM sag_calendar_spans
WHERE calendar_id = %(cal)s AND end_at > %(from)s AND start_at < %(until)s
ORDER BY start_at LIMIT %(limit)s;
