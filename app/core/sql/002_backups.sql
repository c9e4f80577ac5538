-- Backups: one row per `bmc-hub backup` run or scheduled backup, so every process (the
-- admin page, /metrics of any replica) sees the same history and the last good backup.
CREATE TABLE backup_runs (
    id           BIGSERIAL PRIMARY KEY,
    -- The cron slot a scheduled backup is for; NULL for a manual `bmc-hub backup`.
    -- Unique: of any number of workers, the one whose insert wins makes the slot's backup.
    slot         TIMESTAMPTZ UNIQUE,
    status       VARCHAR(8) NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed')),
    file         TEXT,
    size_bytes   BIGINT CHECK (size_bytes >= 0),
    error        TEXT,
    -- host:pid of the process that made it (where the file is).
    process      TEXT NOT NULL,
    -- Set when BACKUP_KEEP pruned the file.
    pruned_at    TIMESTAMPTZ,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX backup_runs_started_idx ON backup_runs (started_at DESC);
CREATE TRIGGER backup_runs_set_updated_at BEFORE UPDATE ON backup_runs
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
