-- Issue 12: the daily digest (opt-in per user, at most one per user and local date) and storm
-- grouping (one reminder listing the cases when a rule fires for one user for several cases).

-- The user's daily digest choice. Kept in sag, not in the core preferences row: the digest
-- lists cases, which the core knows nothing of.
CREATE TABLE sag_digest_settings (
    user_id             INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    enabled             BOOLEAN NOT NULL DEFAULT FALSE,
    -- Local time of day in the user's time zone (users.timezone).
    send_at             TIME NOT NULL DEFAULT '07:30',
    include_unassigned  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TRIGGER sag_digest_settings_set_updated_at BEFORE UPDATE ON sag_digest_settings
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- One row per user and local date (skipped = not a working day, empty = nothing to report),
-- claimed (inserted) before the e-mail is built: the unique key
-- is what makes the digest go out once however many workers look. A worker holds it with a lease
-- while sending; a failure is recorded on the row and retried after `next_attempt_at`.
CREATE TABLE sag_digest_runs (
    id                BIGSERIAL PRIMARY KEY,
    user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    local_date        DATE NOT NULL,
    status            VARCHAR(10) NOT NULL DEFAULT 'sending'
                      CHECK (status IN ('sending', 'sent', 'empty', 'skipped', 'failed', 'gave_up')),
    attempts          INTEGER NOT NULL DEFAULT 1 CHECK (attempts >= 0),
    last_error        TEXT,
    lease_owner       TEXT,
    lease_expires_at  TIMESTAMPTZ,
    next_attempt_at   TIMESTAMPTZ,
    item_count        INTEGER,
    sent_at           TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT sag_digest_runs_once UNIQUE (user_id, local_date)
);
CREATE TRIGGER sag_digest_runs_set_updated_at BEFORE UPDATE ON sag_digest_runs
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Storm grouping: firings of one rule for one user for this many minutes are delivered together
-- (0 = never grouped, except the first run of a new global rule).
ALTER TABLE sag_reminders ADD COLUMN group_window_minutes INTEGER NOT NULL DEFAULT 2
    CHECK (group_window_minutes BETWEEN 0 AND 1440);

-- A per-case row that went out as part of a grouped reminder points at the group's row of the
-- same channel; it is not pushed or mailed on its own, but stays acknowledgeable on its own.
ALTER TABLE sag_reminder_logs ADD COLUMN group_id BIGINT REFERENCES sag_reminder_logs(id) ON DELETE SET NULL;
CREATE INDEX sag_reminder_logs_group_idx ON sag_reminder_logs (group_id) WHERE group_id IS NOT NULL;
