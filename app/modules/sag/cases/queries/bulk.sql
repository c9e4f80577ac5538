-- name: replica_role
-- Skip ordinary and foreign-key triggers for the rest of this transaction (bulk load only).
SET LOCAL session_replication_role = replica;

-- name: lock_tables
-- Keep every other writer (and reader) out while ids are reserved and indexes are rebuilt.
LOCK TABLE sag_sager, sag_status_history, sag_notes, sag_sla_clocks, sag_watchers IN ACCESS EXCLUSIVE MODE;

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

-- name: analyze_for_sla
-- Statistics of what the SLA recompute reads (inside the load's transaction: it sees the new rows).
ANALYZE sag_sager, sag_status_history, sag_notes, sag_sla_clocks;

-- name: refresh_sla
-- Recompute the SLA clocks of the cases with ids in [first, last] in one statement (the same
-- clocks as the case trigger's sag_sla_refresh per case, see sag_sla_refresh_cases).
SELECT sag_sla_refresh_cases(ARRAY(SELECT generate_series(%(first)s::integer, %(last)s::integer)));

-- name: schedule_deadlines
-- Schedule the deadline reminders of the open generated cases with a deadline (as the insert trigger does).
SELECT sag_schedule_deadlines(array_agg(id), NULL)
FROM sag_sager
WHERE id BETWEEN %(first)s AND %(last)s AND closed_at IS NULL AND deadline IS NOT NULL
HAVING count(*) > 0;

-- name: count_cases
-- How many cases exist.
SELECT count(*) AS n FROM sag_sager;

-- name: create_stage
-- A batch's cases before their notes' search words are added (this transaction only, not WAL-logged).
CREATE TEMP TABLE IF NOT EXISTS bulk_cases_stage (
    id integer, title text, description text, customer_id integer, status text, priority text,
    assigned_to integer, created_by integer, deadline timestamptz, closed_at timestamptz, version integer,
    created_at timestamptz, updated_at timestamptz
) ON COMMIT DROP;

-- name: clear_stage
-- Empty the stage for the next batch.
TRUNCATE bulk_cases_stage;

-- name: insert_staged_cases
-- The staged cases with the search words of their notes (notes ids in [first_note, last_note]),
-- computed as the sag_notes statement trigger does (sag_notes_reindex), in id order.
INSERT INTO sag_sager (id, title, description, customer_id, status, priority, assigned_to, created_by, deadline,
                       closed_at, version, created_at, updated_at, notes_search)
SELECT c.id, c.title, c.description, c.customer_id, c.status, c.priority, c.assigned_to, c.created_by, c.deadline,
       c.closed_at, c.version, c.created_at, c.updated_at, w.words
FROM bulk_cases_stage c
LEFT JOIN (SELECT sag_id, to_tsvector('simple', string_agg(body, E'\n' ORDER BY id)) AS words
           FROM sag_notes
           WHERE id BETWEEN %(first_note)s AND %(last_note)s AND deleted_at IS NULL
           GROUP BY sag_id) w ON w.sag_id = c.id
ORDER BY c.id;
