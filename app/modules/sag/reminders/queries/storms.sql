-- name: gather_window
-- Pull forward the pending firings of these rules due within their grouping window, so they go out with the batch.
UPDATE sag_reminder_queue q
SET scheduled_for = %(now)s, updated_at = %(now)s
FROM sag_reminders r
WHERE q.reminder_id = r.id AND r.id = ANY (%(rule_ids)s) AND q.status = 'pending'
  AND q.kind IN ('rule', 'repeat') AND NOT (q.kind = 'rule' AND q.trigger_type = 'status_change')
  AND q.scheduled_for > %(now)s
  AND q.scheduled_for <= %(now)s::timestamptz + make_interval(mins => r.group_window_minutes)
RETURNING q.id;

-- name: hold_pushes
-- Tell the log insert trigger (this transaction only) not to push the rows of these events one by one.
SELECT set_config('sag.held_events', %(ids)s, true);

-- name: read_held_rows
-- The rows the batch wrote for the held events, per rule, user and channel: what may be grouped (with the user's language, the group row's).
SELECT l.id, l.event_id, l.rule_id, l.user_id, l.email, l.channel, l.status, l.sag_id, l.title, l.priority,
       s.title AS case_title, u.language
FROM sag_reminder_logs l
LEFT JOIN sag_sager s ON s.id = l.sag_id
LEFT JOIN users u ON u.id = l.user_id
WHERE l.event_id = ANY (%(event_ids)s) AND l.user_id IS NOT NULL AND l.status IN ('sent', 'pending')
  AND l.group_id IS NULL
ORDER BY l.rule_id, l.user_id, l.channel, l.sag_id;

-- name: insert_storm_event
-- The queue event that carries a grouped reminder (done at once for in-app, pending when a message must still go out).
INSERT INTO sag_reminder_queue (reminder_id, kind, target_user_id, event_data, status, scheduled_for,
                                processed_at, created_at, updated_at)
VALUES (%(rule_id)s, 'storm', %(user_id)s, %(data)s, %(status)s::text, %(now)s,
        CASE WHEN %(status)s::text = 'sent' THEN %(now)s::timestamptz END, %(now)s, %(now)s)
RETURNING id;

-- name: insert_group_row
-- The one log row of a grouped reminder for one channel (in-app: its insert pushes the toast).
INSERT INTO sag_reminder_logs (event_id, rule_id, user_id, email, recipient, channel, status, title, message,
                               priority, sent_at, created_at, updated_at)
VALUES (%(event_id)s, %(rule_id)s, %(user_id)s, %(email)s, 'u:' || %(user_id)s::int, %(channel)s, %(status)s::text,
        %(title)s, %(message)s, %(priority)s, CASE WHEN %(status)s::text = 'sent' THEN %(now)s::timestamptz END,
        %(now)s, %(now)s)
RETURNING id;

-- name: join_group
-- The per-case rows now belong to their group's row.
UPDATE sag_reminder_logs SET group_id = %(group_id)s, updated_at = %(now)s WHERE id = ANY (%(ids)s);

-- name: push_single
-- A held row that turned out to be alone for its user is pushed as the insert trigger would have.
SELECT pg_notify('bmc_user_notifications',
                 json_build_object('user_id', l.user_id, 'log_id', l.id, 'event', 'reminder',
                                   'sag_id', l.sag_id, 'priority', l.priority)::text)
FROM sag_reminder_logs l WHERE l.id = ANY (%(ids)s);

-- name: read_storm_groups
-- A storm event's group rows still to go out, with their per-case rows.
SELECT g.id, g.channel, g.title, g.user_id,
       jsonb_agg(jsonb_build_object('id', m.id, 'sag_id', m.sag_id, 'title', m.title, 'case_title', s.title)
                 ORDER BY m.sag_id) AS members
FROM sag_reminder_logs g
JOIN sag_reminder_logs m ON m.group_id = g.id
LEFT JOIN sag_sager s ON s.id = m.sag_id
WHERE g.event_id = %(event_id)s AND g.status = 'pending'
GROUP BY g.id;

-- name: record_group_result
-- A group's message went out (or failed for good): its row and its per-case rows.
UPDATE sag_reminder_logs
SET status = %(status)s::text, error = %(error)s, updated_at = %(now)s,
    sent_at = CASE WHEN %(status)s::text = 'sent' THEN %(now)s::timestamptz END
WHERE (id = %(group_id)s OR group_id = %(group_id)s) AND status = 'pending';
