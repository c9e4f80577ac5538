-- name: read_event
-- One of the user's log rows as the browser shows it, with the user's unread count.
SELECT l.id, l.rule_id, l.sag_id, s.title AS case_title, l.title, l.message, l.priority, l.channel,
       l.status, l.escalated, l.created_at, l.sent_at, l.seen_at, l.clicked_at, l.dismissed_at,
       l.snoozed_until, l.acknowledged_at,
       (SELECT count(*) FROM sag_reminder_logs u
        WHERE u.user_id = %(user_id)s AND u.is_unread AND u.group_id IS NULL) AS unread,
       (SELECT count(*) FROM sag_reminder_logs m WHERE m.group_id = l.id)::int AS group_size
FROM sag_reminder_logs l
LEFT JOIN sag_sager s ON s.id = l.sag_id
WHERE l.id = %(log_id)s AND l.user_id = %(user_id)s;

-- name: read_backlog
-- What a (re)connecting stream must show: unseen in-app reminders, plus any after the last id it got.
SELECT * FROM (
    SELECT l.id, l.rule_id, l.sag_id, s.title AS case_title, l.title, l.message, l.priority, l.channel,
           l.status, l.escalated, l.created_at, l.sent_at, l.seen_at, l.clicked_at, l.dismissed_at,
           l.snoozed_until, l.acknowledged_at,
           (SELECT count(*) FROM sag_reminder_logs m WHERE m.group_id = l.id)::int AS group_size
    FROM sag_reminder_logs l
    LEFT JOIN sag_sager s ON s.id = l.sag_id
    WHERE l.user_id = %(user_id)s AND l.channel = 'in_app' AND l.status = 'sent' AND l.group_id IS NULL
      AND l.dismissed_at IS NULL AND l.clicked_at IS NULL AND l.acknowledged_at IS NULL
      AND l.snoozed_until IS NULL
      AND l.created_at > now() - make_interval(hours => %(max_age_h)s)
      AND (l.seen_at IS NULL OR (%(after_id)s::bigint IS NOT NULL AND l.id > %(after_id)s::bigint))
    ORDER BY l.id DESC
    LIMIT %(limit)s
) AS recent
ORDER BY id;

-- name: count_unread
-- The bell's number: delivered in-app reminders neither seen nor dismissed.
SELECT count(*) AS n FROM sag_reminder_logs
-- (is_unread: in-app, sent, neither seen nor dismissed; migration 018.)
WHERE user_id = %(user_id)s AND is_unread
  AND group_id IS NULL;  -- a grouped reminder counts once, as its group row

-- name: list_my_logs
-- The user's reminder log rows with the page's filters, newest first, one page plus one.
-- kind: 'mention', 'watch' (a watched case's news) or 'reminder' (rules and their summaries); NULL = all.
SELECT l.id, l.rule_id, l.sag_id, s.title AS case_title, l.title, l.message, l.priority, l.channel,
       l.status, l.escalated, l.error, l.created_at, l.sent_at, l.deliver_after, l.seen_at, l.clicked_at,
       l.dismissed_at, l.snoozed_until, l.acknowledged_at, r.name AS rule_name,
       sag_notification_kind(q.kind) AS kind,
       (SELECT count(*) FROM sag_reminder_logs m WHERE m.group_id = l.id)::int AS group_size
FROM sag_reminder_logs l
LEFT JOIN sag_sager s ON s.id = l.sag_id
LEFT JOIN sag_reminders r ON r.id = l.rule_id
LEFT JOIN sag_reminder_queue q ON q.id = l.event_id
WHERE l.user_id = %(user_id)s
  AND (%(channel)s::text IS NULL OR l.channel = %(channel)s::text)
  AND (%(case_id)s::int IS NULL OR l.sag_id = %(case_id)s::int)
  AND (%(kind)s::text IS NULL OR sag_notification_kind(q.kind) = %(kind)s::text)
  AND (%(group_id)s::bigint IS NULL OR l.group_id = %(group_id)s::bigint)
  AND CASE %(filter)s::text
        WHEN 'unread' THEN l.status = 'sent' AND l.seen_at IS NULL AND l.dismissed_at IS NULL
        WHEN 'snoozed' THEN l.snoozed_until > now()
        WHEN 'held_back' THEN l.status = 'rate_limited'
        WHEN 'open' THEN l.dismissed_at IS NULL AND l.acknowledged_at IS NULL
        ELSE TRUE
      END
ORDER BY l.id DESC
LIMIT %(limit)s OFFSET %(offset)s;

-- name: count_my_logs
-- Counts for the filter tabs of the user's reminder list.
SELECT count(*) FILTER (WHERE l.status = 'sent' AND l.seen_at IS NULL AND l.dismissed_at IS NULL) AS unread,
       count(*) FILTER (WHERE l.snoozed_until > now()) AS snoozed,
       count(*) FILTER (WHERE l.status = 'rate_limited') AS held_back,
       count(*) AS total
FROM sag_reminder_logs l
LEFT JOIN sag_reminder_queue q ON q.id = l.event_id
WHERE l.user_id = %(user_id)s AND (%(channel)s::text IS NULL OR l.channel = %(channel)s::text)
  AND (%(case_id)s::int IS NULL OR l.sag_id = %(case_id)s::int)
  AND (%(kind)s::text IS NULL OR sag_notification_kind(q.kind) = %(kind)s::text)
  AND (%(group_id)s::bigint IS NULL OR l.group_id = %(group_id)s::bigint);

-- name: my_unread_by_kind
-- The user's unread in-app notifications per kind (the profile's Notifications card).
SELECT sag_notification_kind(q.kind) AS kind, count(*)::int AS n
FROM sag_reminder_logs l LEFT JOIN sag_reminder_queue q ON q.id = l.event_id
WHERE l.user_id = %(user_id)s AND l.is_unread
GROUP BY 1;

-- name: my_log_cases
-- The cases the user has reminders for (the "by case" filter), most recent first.
SELECT s.id, s.title, max(l.id) AS last_log
FROM sag_reminder_logs l JOIN sag_sager s ON s.id = l.sag_id
WHERE l.user_id = %(user_id)s
GROUP BY s.id, s.title
ORDER BY last_log DESC
LIMIT 200;

-- name: case_history
-- Every reminder sent about one case (all recipients, channels and destinations), newest first.
SELECT l.id, l.rule_id, r.name AS rule_name, l.channel, l.status, l.title, l.priority, l.error,
       l.created_at, l.sent_at, l.seen_at, l.clicked_at, l.dismissed_at, l.snoozed_until, l.acknowledged_at,
       l.escalated, COALESCE(NULLIF(u.full_name, ''), u.username, l.email, d.name) AS recipient_name
FROM sag_reminder_logs l
LEFT JOIN users u ON u.id = l.user_id
LEFT JOIN sag_reminders r ON r.id = l.rule_id
LEFT JOIN sag_destinations d ON l.user_id IS NULL AND 'dest:' || d.slug = l.channel
WHERE l.sag_id = %(case_id)s
ORDER BY l.id DESC
LIMIT %(limit)s;

-- name: editor_statuses
-- Case statuses for the status-change trigger's selects.
SELECT key, label, label_da FROM sag_statuses ORDER BY sort_order;

-- name: editor_users
-- Active users a rule can name as recipients.
SELECT id, username, COALESCE(NULLIF(full_name, ''), username) AS name FROM users WHERE active ORDER BY name;

-- name: editor_calendars
-- Business-hours calendars a rule can count working time in or hold its firings for (the default first).
SELECT name, is_default FROM sag_calendars ORDER BY is_default DESC, lower(name);

-- name: queue_failures
-- Recently failed events with their errors (newest first).
SELECT q.id, q.reminder_id, r.name AS rule_name, q.sag_id, s.title AS case_title, q.kind, q.trigger_type,
       q.attempts, q.last_error, q.scheduled_for, q.updated_at
FROM sag_reminder_queue q
LEFT JOIN sag_reminders r ON r.id = q.reminder_id
LEFT JOIN sag_sager s ON s.id = q.sag_id
WHERE q.status = 'failed'
ORDER BY q.updated_at DESC
LIMIT %(limit)s;

-- name: queue_failed_deliveries
-- Recent log rows whose delivery failed (e.g. SMTP down), with the error.
SELECT l.id, l.event_id, l.sag_id, l.channel, l.error, l.created_at,
       COALESCE(NULLIF(u.full_name, ''), u.username, l.email, d.name) AS recipient_name
FROM sag_reminder_logs l LEFT JOIN users u ON u.id = l.user_id
LEFT JOIN sag_destinations d ON l.user_id IS NULL AND 'dest:' || d.slug = l.channel
WHERE l.status = 'failed'
ORDER BY l.id DESC
LIMIT %(limit)s;
