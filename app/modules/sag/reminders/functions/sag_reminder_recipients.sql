-- Recipients of firings, resolved now (so a re-assigned case reminds the new assignee): per
-- firing (`key`), one row per user (deduplicated) plus one per external address. Set-based: a
-- batch of 500 firings is a handful of joins, not 500 calls (issue 13).
-- Per firing (parallel arrays): the rule's recipients JSON, the case's assignee and creator,
-- p_target (snooze events go to that user only), p_escalate_role (add that role's users) and
-- the case, for {"watchers": true} (its watchers who did not unwatch it).
CREATE OR REPLACE FUNCTION sag_reminder_recipients_of(
    p_keys BIGINT[], p_recipients JSONB[], p_assigned INTEGER[], p_created INTEGER[], p_target INTEGER[],
    p_escalate_role TEXT[], p_sag_id INTEGER[])
RETURNS TABLE (key BIGINT, user_id INTEGER, email TEXT, escalated BOOLEAN) LANGUAGE sql STABLE AS $$
    WITH f AS MATERIALIZED (
        SELECT * FROM unnest(p_keys, p_recipients, p_assigned, p_created, p_target, p_escalate_role, p_sag_id)
            AS f (key, recipients, assigned, created, target, escalate_role, sag_id)
    ), c AS (
        -- The firing's target (a snooze: that user only), else its case's assignee and creator as the
        -- rule asks: one pass over the firings, not one per source (every branch here is plan nodes
        -- that each batch starts and ends, rows or not; docs/reminders.md, "Eighth round").
        SELECT f.key, x.uid, FALSE AS esc
        FROM f CROSS JOIN LATERAL unnest(CASE WHEN f.target IS NOT NULL THEN ARRAY[f.target]
                                              ELSE ARRAY[CASE WHEN (f.recipients->>'assignee')::boolean THEN f.assigned END,
                                                         CASE WHEN (f.recipients->>'creator')::boolean THEN f.created END]
                                         END) AS x (uid)
        WHERE x.uid IS NOT NULL
        UNION ALL
        -- (Lists are expanded only for firings that have a non-empty one: most rules name none.)
        SELECT f.key, x::integer, FALSE
        FROM f CROSS JOIN LATERAL jsonb_array_elements_text(f.recipients->'users') AS x
        WHERE f.target IS NULL AND jsonb_typeof(f.recipients->'users') = 'array'
          AND f.recipients->'users' <> '[]'::jsonb
        UNION ALL
        SELECT f.key, w.user_id, FALSE FROM f JOIN sag_watchers w ON w.sag_id = f.sag_id AND NOT w.unwatched
        WHERE f.target IS NULL AND (f.recipients->>'watchers')::boolean
        UNION ALL
        SELECT f.key, ru.id, FALSE
        FROM f CROSS JOIN LATERAL jsonb_array_elements_text(f.recipients->'roles') AS r (role_name)
        JOIN users ru ON ru.role = r.role_name AND ru.active
        WHERE f.target IS NULL AND jsonb_typeof(f.recipients->'roles') = 'array'
          AND f.recipients->'roles' <> '[]'::jsonb
        UNION ALL
        SELECT f.key, eu.id, TRUE FROM f JOIN users eu ON eu.active AND eu.role = f.escalate_role
        WHERE f.escalate_role IS NOT NULL
    )
    SELECT c.key, u.id, u.email::text, bool_and(c.esc)
    FROM c JOIN users u ON u.id = c.uid AND u.active
    GROUP BY c.key, u.id, u.email
    UNION ALL
    SELECT DISTINCT f.key, NULL::integer, lower(x), FALSE
    FROM f CROSS JOIN LATERAL jsonb_array_elements_text(f.recipients->'emails') AS x
    WHERE f.target IS NULL AND jsonb_typeof(f.recipients->'emails') = 'array'
      AND f.recipients->'emails' <> '[]'::jsonb
$$;

-- One firing's recipients (the rule preview): sag_reminder_recipients_of for a single firing.
-- The signature before watchers (five arguments): replaced, not overloaded.
DROP FUNCTION IF EXISTS sag_reminder_recipients(JSONB, INTEGER, INTEGER, INTEGER, TEXT);
CREATE OR REPLACE FUNCTION sag_reminder_recipients(
    p_recipients JSONB, p_assigned INTEGER, p_created INTEGER, p_target INTEGER, p_escalate_role TEXT,
    p_sag_id INTEGER)
RETURNS TABLE (user_id INTEGER, email TEXT, escalated BOOLEAN) LANGUAGE sql STABLE AS $$
    SELECT r.user_id, r.email, r.escalated
    FROM sag_reminder_recipients_of(ARRAY[0::bigint], ARRAY[p_recipients], ARRAY[p_assigned], ARRAY[p_created],
                                    ARRAY[p_target], ARRAY[p_escalate_role], ARRAY[p_sag_id]) AS r
$$;
