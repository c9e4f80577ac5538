-- Recipients of one firing, resolved now (so a re-assigned case reminds the new assignee),
-- one row per user (deduplicated) plus one per external address.
-- p_target: snooze events go to that user only. p_escalate_role: add that role's users.
-- p_sag_id: the case, for {"watchers": true} (its watchers who did not unwatch it).
-- The signature before watchers (five arguments): replaced, not overloaded.
DROP FUNCTION IF EXISTS sag_reminder_recipients(JSONB, INTEGER, INTEGER, INTEGER, TEXT);
CREATE OR REPLACE FUNCTION sag_reminder_recipients(
    p_recipients JSONB, p_assigned INTEGER, p_created INTEGER, p_target INTEGER, p_escalate_role TEXT,
    p_sag_id INTEGER)
RETURNS TABLE (user_id INTEGER, email TEXT, escalated BOOLEAN) LANGUAGE sql STABLE AS $$
    SELECT u.id, u.email::text, bool_and(c.esc)
    FROM (
        SELECT p_target, FALSE WHERE p_target IS NOT NULL
        UNION ALL
        SELECT p_assigned, FALSE WHERE p_target IS NULL AND (p_recipients->>'assignee')::boolean
        UNION ALL
        SELECT p_created, FALSE WHERE p_target IS NULL AND (p_recipients->>'creator')::boolean
        UNION ALL
        SELECT x::integer, FALSE
        FROM jsonb_array_elements_text(CASE WHEN p_target IS NULL AND jsonb_typeof(p_recipients->'users') = 'array'
                                            THEN p_recipients->'users' ELSE '[]'::jsonb END) AS x
        UNION ALL
        SELECT w.user_id, FALSE FROM sag_watchers w
        WHERE p_target IS NULL AND (p_recipients->>'watchers')::boolean AND w.sag_id = p_sag_id AND NOT w.unwatched
        UNION ALL
        SELECT ru.id, FALSE FROM users ru
        WHERE p_target IS NULL AND ru.active AND jsonb_typeof(p_recipients->'roles') = 'array'
          AND p_recipients->'roles' ? ru.role
        UNION ALL
        SELECT eu.id, TRUE FROM users eu WHERE p_escalate_role IS NOT NULL AND eu.active AND eu.role = p_escalate_role
    ) AS c (uid, esc)
    JOIN users u ON u.id = c.uid AND u.active
    GROUP BY u.id, u.email
    UNION ALL
    SELECT DISTINCT NULL::integer, lower(x), FALSE
    FROM jsonb_array_elements_text(CASE WHEN p_target IS NULL AND jsonb_typeof(p_recipients->'emails') = 'array'
                                        THEN p_recipients->'emails' ELSE '[]'::jsonb END) AS x
$$;
