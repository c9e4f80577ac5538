-- name: replica_role
-- Skip ordinary and foreign-key triggers for the rest of this transaction (bulk load only).
SET LOCAL session_replication_role = replica;

-- name: flush_early
-- Have the kernel start writing the load's pages to disk as they leave the shared buffers (this
-- transaction only), so little is left for the fsyncs at commit (wal_level=minimal syncs new files then).
SET LOCAL backend_flush_after = '2MB';

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
-- Memory and parallel workers for the index builds that follow (this transaction only).
SELECT set_config('maintenance_work_mem', %(mem)s, true),
       set_config('max_parallel_maintenance_workers', %(workers)s, true);

-- name: default_role
-- Triggers fire again for whatever else this transaction does.
SET LOCAL session_replication_role = DEFAULT;

-- name: table_rows
-- The planner's estimate of a table's rows (to decide whether rebuilding its indexes pays).
SELECT GREATEST(reltuples, 0)::bigint AS n FROM pg_class WHERE oid = %(table)s::regclass;

-- name: rebuildable_indexes
-- A table's indexes that a load may drop and rebuild: those backing no constraint, and primary
-- keys no foreign key refers to (with the constraint's definition to add it again).
SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition,
       CASE WHEN c.oid IS NOT NULL THEN pg_get_constraintdef(c.oid) END AS constraint_def
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
WHERE x.indrelid = %(table)s::regclass
  AND (c.oid IS NULL
       OR (c.contype = 'p' AND c.conname = i.relname
           AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = x.indexrelid)))
  AND NOT EXISTS (SELECT 1 FROM pg_constraint o WHERE o.conindid = x.indexrelid AND o.contype <> 'p')
ORDER BY i.relname;

-- name: valid_refs
-- The active users and all customers (what generated cases may point at).
SELECT (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM users WHERE active) AS users,
       (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM customers WHERE active) AS customers;

-- name: schedule_deadlines
-- Schedule the deadline reminders of the open generated cases with a deadline (as the insert trigger does);
-- without an active deadline rule there is nothing to plan, and the cases (no index yet) are not read.
SELECT sag_schedule_deadlines(array_agg(id), NULL)
FROM sag_sager
WHERE id BETWEEN %(first)s AND %(last)s AND closed_at IS NULL AND deadline IS NOT NULL
  AND EXISTS (SELECT 1 FROM sag_reminders WHERE active AND trigger_type = 'deadline')
HAVING count(*) > 0;

-- name: count_cases
-- How many cases exist.
SELECT count(*) AS n FROM sag_sager;

-- name: note_words
-- The words of each note text as to_tsvector('simple') finds them (bulk_rows.notes_search joins them per case).
SELECT b.body, w.lexeme, w.positions
FROM unnest(%(bodies)s::text[]) AS b(body)
CROSS JOIN LATERAL unnest(to_tsvector('simple', b.body)) AS w;

-- name: wal_level
-- How much the server writes to its WAL (a table rewritten in this transaction skips it at 'minimal').
SELECT current_setting('wal_level') AS level;

-- name: primary_key_index
-- The index of a table's primary key (what CLUSTER rewrites the table by).
SELECT i.relname AS name
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = %(table)s::regclass AND x.indisprimary;
