-- Who watches a case: the Watch/Unwatch button, the API and the count on the case page.

-- name: case_exists
-- Whether the case exists.
SELECT id FROM sag_sager WHERE id = %(sag_id)s;

-- name: watch
-- The user watches the case (again): an explicit choice, so it clears an earlier unwatch.
INSERT INTO sag_watchers (sag_id, user_id, reason) VALUES (%(sag_id)s, %(user_id)s, 'manual')
ON CONFLICT (sag_id, user_id) DO UPDATE SET unwatched = FALSE
RETURNING sag_id, user_id, reason, created_at;

-- name: unwatch
-- The user stops watching; the row stays with `unwatched` so the automatic paths do not add them back.
INSERT INTO sag_watchers (sag_id, user_id, reason, unwatched) VALUES (%(sag_id)s, %(user_id)s, 'manual', TRUE)
ON CONFLICT (sag_id, user_id) DO UPDATE SET unwatched = TRUE;

-- name: list_watchers
-- The case's watchers (active users who did not unwatch), by name.
SELECT w.user_id, u.username, COALESCE(NULLIF(u.full_name, ''), u.username) AS name, w.reason, w.created_at
FROM sag_watchers w JOIN users u ON u.id = w.user_id AND u.active
WHERE w.sag_id = %(sag_id)s AND NOT w.unwatched
ORDER BY name, w.user_id;

-- name: watch_state
-- For the case page: how many watch the case and whether this user does.
SELECT count(*) FILTER (WHERE u.active)::int AS count,
       COALESCE(bool_or(w.user_id = %(user_id)s), FALSE) AS watching
FROM sag_watchers w JOIN users u ON u.id = w.user_id
WHERE w.sag_id = %(sag_id)s AND NOT w.unwatched;
