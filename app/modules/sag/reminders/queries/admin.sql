-- name: preview_cases
-- Open cases a rule can fire for (its case, or all open cases), with what the schedule needs.
SELECT s.id, s.title, s.status, s.deadline, s.updated_at, s.closed_at
FROM sag_sager s
WHERE (%(sag_id)s::int IS NULL OR s.id = %(sag_id)s)
  AND (s.closed_at IS NULL OR %(sag_id)s::int IS NOT NULL)
ORDER BY s.id
LIMIT %(limit)s;

-- name: preview_deadline_cases
-- Open cases whose deadline reminder (deadline - offset, in working time when the config names a calendar; now if passed) falls in the window.
SELECT s.id, s.title, s.status, s.deadline, greatest(f.at, %(now)s::timestamptz) AS at
FROM sag_sager s
CROSS JOIN LATERAL (SELECT sag_rule_offset(%(config)s::jsonb, s.deadline, -1) AS at) AS f
WHERE (%(sag_id)s::int IS NULL OR s.id = %(sag_id)s) AND s.closed_at IS NULL
  AND s.deadline IS NOT NULL AND s.deadline > %(now)s AND f.at <= %(until)s
ORDER BY at, s.id
LIMIT %(limit)s;

-- name: preview_inactive_cases
-- Open cases that reach N (working) days or hours without an update within the window (now, if already past).
SELECT s.id, s.title, s.status, greatest(f.at, %(now)s::timestamptz) AS at
FROM sag_sager s
CROSS JOIN LATERAL (SELECT sag_rule_offset(%(config)s::jsonb, s.updated_at, 1) AS at) AS f
WHERE (%(sag_id)s::int IS NULL OR s.id = %(sag_id)s) AND s.closed_at IS NULL
  AND f.at <= %(until)s
ORDER BY at, s.id
LIMIT %(limit)s;

-- name: preview_recipients
-- For each planned firing: recipients (the worker's resolution) and each channel's outcome at that time.
WITH f AS (
    SELECT (x->>'sag_id')::int AS sag_id, (x->>'at')::timestamptz AS at, ord
    FROM jsonb_array_elements(%(firings)s::jsonb) WITH ORDINALITY AS t (x, ord)
)
-- %(channels)s: the rule's channels with their flags (reminders/channels, sql_param), as the worker's destinations.
SELECT f.ord, f.sag_id, rc.user_id, rc.email, COALESCE(NULLIF(u.full_name, ''), u.username) AS name,
       ch.name AS channel,
       CASE WHEN rc.user_id IS NULL THEN TRUE
            ELSE COALESCE((p.trigger_overrides->%(trigger_type)s->>ch.name)::boolean,
                          (to_jsonb(p)->>ch.switch)::boolean, TRUE)
       END AS enabled,
       CASE WHEN ch.quiet_hours AND rc.user_id IS NOT NULL
            THEN sag_quiet_until(u.timezone, p.quiet_hours_start, p.quiet_hours_end, COALESCE(f.at, now())) END
           AS quiet_until
FROM f
JOIN sag_sager s ON s.id = f.sag_id
CROSS JOIN LATERAL sag_reminder_recipients(%(recipients)s::jsonb, s.assigned_to, s.created_by, NULL, NULL, s.id) AS rc
CROSS JOIN LATERAL jsonb_to_recordset(%(channels)s::jsonb) AS ch (name text, switch text, quiet_hours boolean,
                                                                  external boolean)
LEFT JOIN users u ON u.id = rc.user_id
LEFT JOIN user_notification_preferences p ON p.user_id = rc.user_id
WHERE rc.user_id IS NOT NULL OR ch.external
ORDER BY f.ord, rc.user_id NULLS LAST, rc.email, ch.name;

-- name: queue_counts
-- Events per status (status-change firings still in the inbox count as pending).
SELECT status, count(*)::int AS n FROM sag_reminder_queue GROUP BY status
UNION ALL
SELECT 'pending', count(*)::int FROM sag_reminder_inbox;

-- name: queue_overview
-- Oldest due pending event, next due, expired leases and throughput of the last hour.
SELECT least((SELECT min(scheduled_for) FROM sag_reminder_queue WHERE status = 'pending' AND scheduled_for <= now()),
             (SELECT min(created_at) FROM sag_reminder_inbox)) AS oldest_due,
       (SELECT min(scheduled_for) FROM sag_reminder_queue WHERE status = 'pending' AND scheduled_for > now())
           AS next_due,
       (SELECT count(*) FROM sag_reminder_queue WHERE status = 'pending' AND scheduled_for <= now())::int
           + (SELECT count(*) FROM sag_reminder_inbox)::int AS due_now,
       (SELECT count(*) FROM sag_reminder_queue WHERE status = 'processing' AND lease_expires_at < now())::int
           AS expired_leases,
       (SELECT count(*) FROM sag_reminder_queue WHERE status = 'sent' AND processed_at > now() - interval '1 hour')::int
           AS events_last_hour,
       (SELECT count(*) FROM sag_reminder_logs WHERE created_at > now() - interval '1 hour'
            AND status IN ('sent', 'pending'))::int AS notifications_last_hour,
       (SELECT count(*) FROM sag_reminder_logs WHERE created_at > now() - interval '1 hour'
            AND status = 'rate_limited')::int AS rate_limited_last_hour,
       now() AS now;

-- name: recent_failures
-- The latest failed events with their errors.
SELECT q.id, q.kind, q.trigger_type, q.reminder_id, r.name AS rule_name, q.sag_id, s.title AS case_title,
       q.attempts, q.last_error, q.scheduled_for, q.processed_at, q.updated_at
FROM sag_reminder_queue q
LEFT JOIN sag_reminders r ON r.id = q.reminder_id
LEFT JOIN sag_sager s ON s.id = q.sag_id
WHERE q.status = 'failed'
ORDER BY q.processed_at DESC NULLS LAST
LIMIT %(limit)s;

-- name: retry_event
-- Put a failed event back in the queue now, with fresh attempts; its failed rows (only channels that deliver later fail) go out again.
WITH ev AS (
    UPDATE sag_reminder_queue
    SET status = 'pending', attempts = 0, scheduled_for = now(), processed_at = NULL, lease_owner = NULL,
        lease_expires_at = NULL, updated_at = now()
    WHERE id = %(id)s AND status = 'failed'
    RETURNING id
), mails AS (
    UPDATE sag_reminder_logs SET status = 'pending', updated_at = now()
    WHERE event_id IN (SELECT id FROM ev) AND status = 'failed'
    RETURNING id
)
SELECT (SELECT id FROM ev) AS id, (SELECT count(*) FROM mails)::int AS emails;

-- name: read_event
-- One queue event.
SELECT id, status FROM sag_reminder_queue WHERE id = %(id)s;

-- name: read_case_history
-- A case's reminder log rows (everyone's), newest first.
SELECT l.id, l.rule_id, l.sag_id, l.user_id,
       COALESCE(NULLIF(u.full_name, ''), u.username, l.email) AS recipient_name, l.title, l.channel, l.status,
       l.escalated, l.created_at, l.sent_at, l.seen_at, l.acknowledged_at, l.snoozed_until,
       count(*) OVER () AS total
FROM sag_reminder_logs l
LEFT JOIN users u ON u.id = l.user_id
WHERE l.sag_id = %(sag_id)s
ORDER BY l.id DESC
LIMIT %(limit)s OFFSET %(offset)s;

-- name: case_exists
-- Whether a case exists.
SELECT 1 AS found FROM sag_sager WHERE id = %(id)s;

-- name: preview_sla_cases
-- Open cases in the rule's scope with an SLA clock, and when each threshold of the target would fire (as sag_schedule_sla plans it; NULL = not while the target is met, paused or unknown).
SELECT s.id, s.title, s.status, s.deadline, t.percent, k.calendar_id,
       CASE WHEN %(target)s = 'response' THEN k.response_due_at ELSE k.resolution_due_at END AS due_at,
       CASE WHEN %(target)s = 'response' AND k.first_response_at IS NOT NULL THEN 'target met'
            WHEN %(target)s = 'resolution' AND k.paused_since IS NOT NULL THEN 'clock paused' END AS reason,
       CASE WHEN %(target)s = 'response'
            THEN sag_add_working_minutes(k.calendar_id, s.created_at, p.response_minutes * t.percent / 100.0)
            ELSE sag_add_working_minutes(k.calendar_id, s.created_at,
                                         p.resolution_minutes * t.percent / 100.0 + k.paused_minutes) END AS at
FROM sag_sager s
JOIN sag_sla_clocks k ON k.sag_id = s.id
JOIN sag_sla_policies p ON p.id = k.policy_id
CROSS JOIN unnest(%(thresholds)s::int[]) AS t (percent)
WHERE (%(sag_id)s::int IS NULL OR s.id = %(sag_id)s) AND s.closed_at IS NULL AND k.calendar_id IS NOT NULL
ORDER BY s.id, t.percent
LIMIT %(limit)s;

-- name: preview_closed_until
-- For each planned instant: NULL when the rule's calendar is open then, else when it opens.
SELECT x.ord, sag_closed_until(sag_calendar_named(%(calendar)s), x.at) AS opens_at
FROM unnest(%(times)s::timestamptz[]) WITH ORDINALITY AS x (at, ord);
