-- Mentions and watched-case notifications: what the worker's `mention` and `watch` handlers read and write.

-- name: read_note
-- The note an event is about, with its author's name (NULL when the note is gone).
SELECT n.id, n.sag_id, n.author_id, n.body, n.deleted_at,
       COALESCE(NULLIF(a.full_name, ''), a.username, 'Someone') AS author_name
FROM sag_notes n LEFT JOIN users a ON a.id = n.author_id
WHERE n.id = %(note_id)s;

-- name: resolve_handles
-- Active users named by @handles (lower-cased): by username, or by full name (@"Full Name").
SELECT id FROM users
WHERE active AND (lower(username) = ANY (%(handles)s::text[]) OR lower(full_name) = ANY (%(handles)s::text[]))
ORDER BY id;

-- name: already_mentioned
-- Users an earlier mention event of this note already wrote a notification for (any channel or status).
SELECT DISTINCT l.user_id
FROM sag_reminder_queue q JOIN sag_reminder_logs l ON l.event_id = q.id
WHERE q.sag_id = %(sag_id)s AND q.kind = 'mention' AND q.event_data->>'note_id' = %(note_id)s::text
  AND q.id <> %(event_id)s AND l.user_id IS NOT NULL;

-- name: watch_mentioned
-- Mentioned users watch the case from now on, unless they unwatched it.
INSERT INTO sag_watchers (sag_id, user_id, reason)
SELECT %(sag_id)s, u, 'mention' FROM unnest(%(user_ids)s::int[]) AS u
ON CONFLICT (sag_id, user_id) DO NOTHING;

-- name: read_watchers
-- The case's active watchers who did not unwatch it.
SELECT w.user_id FROM sag_watchers w JOIN users u ON u.id = w.user_id AND u.active
WHERE w.sag_id = %(sag_id)s AND NOT w.unwatched
ORDER BY w.user_id;

-- name: read_case
-- The case an event is about, with its status label.
SELECT s.id, s.title, s.status, st.label AS status_label FROM sag_sager s
LEFT JOIN sag_statuses st ON st.key = s.status WHERE s.id = %(sag_id)s;

-- name: read_status_labels
-- Labels of two statuses (a status change's from and to).
SELECT key, label, label_da FROM sag_statuses WHERE key = ANY (%(keys)s::text[]);

-- name: read_user_name
-- A user's display name.
SELECT COALESCE(NULLIF(full_name, ''), username) AS name FROM users WHERE id = %(user_id)s;

-- name: set_recipients
-- The users this event goes to, on the event, so a retry delivers to the same people.
UPDATE sag_reminder_queue SET event_data = event_data || jsonb_build_object('recipients', %(recipients)s::jsonb)
WHERE id = %(id)s;

-- name: notified_by_status_rules
-- Users a status-change rule already notified of this same change (its firings carry the change's time).
SELECT DISTINCT l.user_id
FROM sag_reminder_logs l JOIN sag_reminder_queue q ON q.id = l.event_id
WHERE l.sag_id = %(sag_id)s AND l.rule_id IS NOT NULL AND l.user_id IS NOT NULL
  AND q.kind = 'rule' AND q.trigger_type = 'status_change'
  AND q.created_at = (SELECT created_at FROM sag_reminder_queue WHERE id = %(event_id)s);
