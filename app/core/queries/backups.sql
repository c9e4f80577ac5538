-- name: start_run
-- Record a backup as running; for a scheduled one, only if no process has taken its slot yet.
INSERT INTO backup_runs (slot, process) VALUES (%(slot)s, %(process)s)
ON CONFLICT (slot) DO NOTHING
RETURNING id;

-- name: finish_run
-- Record how a backup ended.
UPDATE backup_runs SET status = %(status)s, file = %(file)s, size_bytes = %(size)s, error = %(error)s,
       finished_at = now()
WHERE id = %(id)s;

-- name: interrupt_stale_runs
-- Runs left 'running' by a process that died mid-backup are failures; shown as such.
UPDATE backup_runs SET status = 'failed', error = 'interrupted (the process stopped during the backup)',
       finished_at = now()
WHERE status = 'running' AND started_at < now() - make_interval(secs => %(stale_s)s);

-- name: prunable_files
-- Files of good scheduled backups beyond the newest `keep` that are still on disk.
SELECT id, file, process FROM backup_runs
WHERE slot IS NOT NULL AND status = 'ok' AND pruned_at IS NULL AND file IS NOT NULL
  AND id NOT IN (SELECT id FROM backup_runs WHERE slot IS NOT NULL AND status = 'ok'
                 ORDER BY slot DESC LIMIT %(keep)s);

-- name: mark_pruned
-- A backup file deleted by BACKUP_KEEP.
UPDATE backup_runs SET pruned_at = now() WHERE id = %(id)s;

-- name: recent_runs
-- The latest backups, newest first (admin page).
SELECT id, slot, status, file, size_bytes, error, process, pruned_at, started_at, finished_at
FROM backup_runs ORDER BY started_at DESC, id DESC LIMIT %(limit)s;

-- name: summary
-- Last good backup, and failures since then (admin page, metrics, alerts).
SELECT (SELECT max(finished_at) FROM backup_runs WHERE status = 'ok') AS last_ok_at,
       (SELECT count(*) FROM backup_runs
        WHERE status = 'failed'
          AND finished_at > COALESCE((SELECT max(finished_at) FROM backup_runs WHERE status = 'ok'),
                                     '-infinity'::timestamptz)) AS failed_since_ok,
       (SELECT max(finished_at) FROM backup_runs WHERE status = 'failed') AS last_failed_at;

-- name: user_relations
-- Tables, views and sequences outside the catalogs: a restore target must have none (or --yes).
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%';

-- name: drop_user_schemas
-- What restore --yes runs first, in the restore's transaction: every schema but the catalogs goes.
DO $$ DECLARE s text; BEGIN
  FOR s IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_%' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s);
  END LOOP;
  CREATE SCHEMA public;
END $$;
