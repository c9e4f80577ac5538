-- name: read_my_logs
-- A user's reminder log rows, newest first, with filters and the total for paging.
SELECT l.id, l.event_id, l.rule_id, l.sag_id, s.title AS case_title, l.sag_id AS case_number, l.title, l.message,
       l.priority, l.channel, l.status, l.escalated, l.error, l.deliver_after, l.sent_at, l.created_at, l.seen_at,
       l.clicked_at, l.dismissed_at, l.snoozed_until, l.acknowledged_at, r.name AS rule_name,
       CASE WHEN q.kind IN ('mention', 'watch') THEN q.kind ELSE 'reminder' END AS kind,
       count(*) OVER () AS total
FROM sag_reminder_logs l
LEFT JOIN sag_sager s ON s.id = l.sag_id
LEFT JOIN sag_reminders r ON r.id = l.rule_id
LEFT JOIN sag_reminder_queue q ON q.id = l.event_id
WHERE l.user_id = %(user_id)s
  AND (%(kind)s::text IS NULL
       OR CASE WHEN q.kind IN ('mention', 'watch') THEN q.kind ELSE 'reminder' END = %(kind)s::text)
  AND (%(log_id)s::bigint IS NULL OR l.id = %(log_id)s)
  AND (NOT %(unread)s OR (l.channel = 'in_app' AND l.status = 'sent' AND l.seen_at IS NULL AND l.dismissed_at IS NULL))
  AND (NOT %(snoozed)s OR l.snoozed_until > now())
  AND (NOT %(rate_limited)s OR l.status = 'rate_limited')
  AND (%(sag_id)s::int IS NULL OR l.sag_id = %(sag_id)s)
  AND (%(channel)s::text IS NULL OR l.channel = %(channel)s)
  AND (%(status)s::text IS NULL OR l.status = %(status)s)
  AND (%(since_id)s::bigint IS NULL OR l.id > %(since_id)s)
  AND (%(group_id)s::bigint IS NULL OR l.group_id = %(group_id)s)
ORDER BY l.id DESC
LIMIT %(limit)s OFFSET %(offset)s;

-- name: count_unread
-- In-app reminders delivered to the user and neither seen nor dismissed.
SELECT count(*)::int AS unread FROM sag_reminder_logs
WHERE user_id = %(user_id)s AND is_unread  -- in-app, sent, neither seen nor dismissed (migration 018)
  AND group_id IS NULL;  -- a grouped reminder counts once, as its group row

-- name: mark_logs
-- Record an interaction on the user's own rows (acknowledge also covers the other channel of the same reminder).
UPDATE sag_reminder_logs l
SET seen_at = COALESCE(l.seen_at, now()),
    clicked_at = CASE WHEN %(action)s = 'clicked' THEN COALESCE(l.clicked_at, now()) ELSE l.clicked_at END,
    dismissed_at = CASE WHEN %(action)s = 'dismiss' THEN COALESCE(l.dismissed_at, now()) ELSE l.dismissed_at END,
    acknowledged_at = CASE WHEN %(action)s = 'acknowledge' THEN COALESCE(l.acknowledged_at, now())
                           ELSE l.acknowledged_at END,
    snoozed_until = CASE WHEN %(action)s = 'acknowledge' THEN NULL ELSE l.snoozed_until END,
    updated_at = now()
WHERE l.user_id = %(user_id)s
  AND (l.id = ANY (%(ids)s)
       OR (%(action)s = 'acknowledge' AND l.event_id IN (SELECT event_id FROM sag_reminder_logs
                                                         WHERE id = ANY (%(ids)s) AND user_id = %(user_id)s)))
RETURNING l.id;

-- name: cancel_user_snoozes
-- Acknowledged: the user's pending snoozes of that rule and case are no longer wanted.
UPDATE sag_reminder_queue q
SET status = 'cancelled', last_error = 'acknowledged', processed_at = now(), updated_at = now()
FROM sag_reminder_logs l
WHERE l.id = ANY (%(ids)s) AND l.user_id = %(user_id)s
  AND q.status = 'pending' AND q.kind = 'snooze' AND q.target_user_id = l.user_id
  AND q.reminder_id = l.rule_id AND q.sag_id = l.sag_id;

-- name: snooze_logs
-- Snooze the user's rows (both channels of the reminder) until a time.
UPDATE sag_reminder_logs l
SET snoozed_until = %(until)s, seen_at = COALESCE(l.seen_at, now()), updated_at = now()
WHERE l.user_id = %(user_id)s AND l.rule_id IS NOT NULL AND l.sag_id IS NOT NULL
  AND l.event_id IN (SELECT event_id FROM sag_reminder_logs WHERE id = ANY (%(ids)s) AND user_id = %(user_id)s)
RETURNING l.id;

-- name: queue_snoozes
-- One new event per snoozed reminder, for that rule, case and user at the chosen time (a new snooze moves it).
INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, target_user_id, event_data, dedup_key,
                                scheduled_for)
SELECT DISTINCT ON (l.event_id) l.rule_id, l.sag_id, 'snooze', q.trigger_type, l.user_id,
       jsonb_build_object('snoozed_log_id', l.id, 'from', q.event_data->'from', 'to', q.event_data->'to'),
       'snooze:' || l.event_id || ':' || l.user_id, %(until)s
FROM sag_reminder_logs l JOIN sag_reminder_queue q ON q.id = l.event_id
WHERE l.id = ANY (%(ids)s) AND l.user_id = %(user_id)s AND l.rule_id IS NOT NULL AND l.sag_id IS NOT NULL
ORDER BY l.event_id, l.id
ON CONFLICT (dedup_key) WHERE status = 'pending' AND dedup_key IS NOT NULL
DO UPDATE SET scheduled_for = EXCLUDED.scheduled_for, updated_at = now();

-- name: read_log_owner
-- Who a log row belongs to and whether it can be snoozed.
SELECT id, user_id, rule_id, sag_id, event_id FROM sag_reminder_logs WHERE id = %(id)s;

-- name: user_timezone
-- The user's time zone.
SELECT timezone FROM users WHERE id = %(user_id)s;

-- name: read_link_target
-- The log row an e-mail link points at, with its owner's state.
SELECT l.id, l.user_id, l.sag_id, l.rule_id, l.title, l.acknowledged_at, l.snoozed_until,
       s.title AS case_title, u.active
FROM sag_reminder_logs l
JOIN users u ON u.id = l.user_id
LEFT JOIN sag_sager s ON s.id = l.sag_id
WHERE l.id = %(id)s;
