-- name: mark_rewrite
-- Tell the spans' delete trigger (this transaction only) that new spans follow at once.
SELECT set_config('sag.spans_rewrite', %(on)s, true);

-- name: delete_spans
-- Forget a calendar's stored spans before writing them again.
DELETE FROM sag_calendar_spans WHERE calendar_id = %(id)s;

-- name: copy_spans
-- Stream a calendar's spans in (COPY: thousands of rows per calendar).
COPY sag_calendar_spans (calendar_id, start_at, end_at, open_before, open_after) FROM STDIN;

-- name: stale_calendars
-- Calendars whose stored spans end before %(until)s, or that have none.
SELECT c.id FROM sag_calendars c LEFT JOIN sag_calendar_spans s ON s.calendar_id = c.id
GROUP BY c.id HAVING max(s.end_at) IS NULL OR max(s.end_at) < %(until)s ORDER BY c.id;
