-- name: replica_role
-- Skip ordinary and foreign-key triggers for the rest of this transaction (bulk load only).
SET LOCAL session_replication_role = replica;

-- name: lock_tables
-- Keep every other writer (and reader) out while ids are reserved and indexes are rebuilt.
LOCK TABLE sag_sager, sag_status_history, sag_notes, sag_sla_clocks IN ACCESS EXCLUSIVE MODE;

-- name: next_id
-- The next id of a table's serial column (the first the load hands out).
SELECT nextval(pg_get_serial_sequence(%(table)s, 'id')) AS id;

-- name: move_sequence
-- Move a table's id sequence past the ids the load handed out.
SELECT setval(pg_get_serial_sequence(%(table)s, 'id'), %(last)s);

-- name: index_memory
-- Memory for the index builds that follow (this transaction only).
SELECT set_config('maintenance_work_mem', %(mem)s, true);

-- name: default_role
-- Triggers fire again for whatever else this transaction does.
SET LOCAL session_replication_role = DEFAULT;

-- name: table_rows
-- The planner's estimate of a table's rows (to decide whether rebuilding its indexes pays).
SELECT GREATEST(reltuples, 0)::bigint AS n FROM pg_class WHERE oid = %(table)s::regclass;

-- name: plain_indexes
-- A table's indexes that back no constraint, with their definitions (dropped and rebuilt around a load).
SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = %(table)s::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
ORDER BY i.relname;

-- name: valid_refs
-- The active users and all customers (what generated cases may point at).
SELECT (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM users WHERE active) AS users,
       (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM customers WHERE active) AS customers;

-- name: has_sla_policy
-- Whether any SLA policy exists (then clocks need the working-time computation).
SELECT EXISTS (SELECT 1 FROM sag_sla_policies) AS any;

-- name: refresh_sla
-- Recompute the SLA clocks of the cases with ids in [first, last] (as the case trigger does).
SELECT count(sag_sla_refresh(id)) AS n FROM generate_series(%(first)s::integer, %(last)s::integer) AS id;

-- name: schedule_deadlines
-- Schedule the deadline reminders of the open generated cases with a deadline (as the insert trigger does).
SELECT sag_schedule_deadlines(array_agg(id), NULL)
FROM sag_sager
WHERE id BETWEEN %(first)s AND %(last)s AND closed_at IS NULL AND deadline IS NOT NULL
HAVING count(*) > 0;

-- name: count_cases
-- How many cases exist.
SELECT count(*) AS n FROM sag_sager;

-- name: index_notes
-- The search words of the generated cases' notes (what the sag_notes statement trigger writes).
UPDATE sag_sager s SET notes_search = n.words
FROM (SELECT sag_id, to_tsvector('simple', string_agg(body, E'\n' ORDER BY id)) AS words
      FROM sag_notes WHERE sag_id BETWEEN %(first)s AND %(last)s AND deleted_at IS NULL
      GROUP BY sag_id) n
WHERE s.id = n.sag_id;

-- name: add_watchers
-- The watchers the triggers would have added: the creator, the assignee, each note's author.
INSERT INTO sag_watchers (sag_id, user_id, reason, created_at)
SELECT w.sag_id, w.user_id, w.reason, w.at FROM (
    SELECT id AS sag_id, created_by AS user_id, 'creator' AS reason, created_at AS at, 1 AS rank
    FROM sag_sager WHERE id BETWEEN %(first)s AND %(last)s AND created_by IS NOT NULL
    UNION ALL
    SELECT id, assigned_to, 'assignee', created_at, 2
    FROM sag_sager WHERE id BETWEEN %(first)s AND %(last)s AND assigned_to IS NOT NULL
    UNION ALL
    SELECT sag_id, author_id, 'note', created_at, 3
    FROM sag_notes WHERE sag_id BETWEEN %(first)s AND %(last)s AND author_id IS NOT NULL
    ORDER BY 1, 5, 4
) w
ON CONFLICT (sag_id, user_id) DO NOTHING;
