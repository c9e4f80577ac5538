-- A case's timeline: notes, status changes, assignments, deadline changes and reminders sent,
-- one row shape for all (columns a kind does not use are NULL). Status changes carry the
-- statuses' Danish names too (from_label_da/to_label_da), for the page's `localized` filter.

-- name: timeline_page
-- One page of a case's timeline counted from the newest entry (newest first; the caller reverses).
SELECT * FROM (
    SELECT 'note' AS kind, n.id, n.created_at AS at, n.author_id AS actor_id,
           COALESCE(NULLIF(a.full_name, ''), a.username) AS actor_name,
           CASE WHEN n.deleted_at IS NULL THEN n.body END AS body,
           NULL::text AS from_key, NULL::text AS to_key, NULL::text AS from_label, NULL::text AS to_label,
           NULL::timestamptz AS from_at, NULL::timestamptz AS to_at, n.via,
           n.edited_at, COALESCE(NULLIF(e.full_name, ''), e.username) AS edited_by_name,
           n.deleted_at, COALESCE(NULLIF(d.full_name, ''), d.username) AS deleted_by_name,
           NULL::text[] AS recipients, NULL::text[] AS channels,
           NULL::text AS from_label_da, NULL::text AS to_label_da
    FROM sag_notes n
    LEFT JOIN users a ON a.id = n.author_id
    LEFT JOIN users e ON e.id = n.edited_by
    LEFT JOIN users d ON d.id = n.deleted_by
    WHERE n.sag_id = %(case_id)s
  UNION ALL
    SELECT CASE WHEN h.from_status IS NULL THEN 'created' ELSE 'status' END, h.id, h.changed_at, h.changed_by,
           COALESCE(NULLIF(u.full_name, ''), u.username), h.note,
           h.from_status, h.to_status, fs.label, ts.label, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, fs.label_da, ts.label_da
    FROM sag_status_history h
    LEFT JOIN sag_statuses fs ON fs.key = h.from_status
    JOIN sag_statuses ts ON ts.key = h.to_status
    LEFT JOIN users u ON u.id = h.changed_by
    WHERE h.sag_id = %(case_id)s
  UNION ALL
    SELECT CASE c.field WHEN 'assigned_to' THEN 'assignment' ELSE 'deadline' END, c.id, c.changed_at, c.changed_by,
           COALESCE(NULLIF(u.full_name, ''), u.username), NULL,
           c.from_user::text, c.to_user::text,
           COALESCE(NULLIF(fu.full_name, ''), fu.username), COALESCE(NULLIF(tu.full_name, ''), tu.username),
           c.from_deadline, c.to_deadline, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM sag_case_changes c
    LEFT JOIN users u ON u.id = c.changed_by
    LEFT JOIN users fu ON fu.id = c.from_user
    LEFT JOIN users tu ON tu.id = c.to_user
    WHERE c.sag_id = %(case_id)s
  UNION ALL
    -- One entry per reminder event: its title, who got it and through which channels.
    SELECT 'reminder', l.event_id, min(COALESCE(l.sent_at, l.created_at)), NULL, NULL, min(l.title),
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           array_agg(DISTINCT COALESCE(NULLIF(u.full_name, ''), u.username, l.email)),
           array_agg(DISTINCT l.channel), NULL, NULL
    FROM sag_reminder_logs l
    LEFT JOIN users u ON u.id = l.user_id
    WHERE l.sag_id = %(case_id)s AND l.status = 'sent'
    GROUP BY l.event_id
) t
ORDER BY at DESC, kind DESC, id DESC
LIMIT %(limit)s OFFSET %(offset)s;

-- name: timeline_count
-- How many entries a case's timeline has (reminders counted per event).
SELECT (SELECT count(*) FROM sag_notes WHERE sag_id = %(case_id)s)
     + (SELECT count(*) FROM sag_status_history WHERE sag_id = %(case_id)s)
     + (SELECT count(*) FROM sag_case_changes WHERE sag_id = %(case_id)s)
     + (SELECT count(DISTINCT event_id) FROM sag_reminder_logs WHERE sag_id = %(case_id)s AND status = 'sent')
     AS n;

-- name: mention_candidates
-- Active users whose username, full name or a word of it starts with the typed prefix.
SELECT id, username, full_name
FROM users
WHERE active AND (lower(username) LIKE %(prefix)s OR lower(full_name) LIKE %(prefix)s
                  OR lower(full_name) LIKE '%% ' || %(prefix)s)
ORDER BY lower(username) LIKE %(prefix)s DESC, lower(username)
LIMIT %(limit)s;
