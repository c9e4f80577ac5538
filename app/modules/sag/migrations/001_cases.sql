-- Rewritten when its functions moved to function files (functions/*.sql); a database
-- that applied the earlier text below is up to date (see docs/development.md).
-- supersedes: 984548384e1783bac8c05481dbd9eab0691f1ecd5320858d993981ce539ee646
-- Cases (sager): statuses, cases, status history.

-- Trigram matching makes the case list's text search (ILIKE '%word%') use an index.
-- pg_trgm is a trusted extension shipped with PostgreSQL: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE sag_statuses (
    key         VARCHAR(32) PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]*$'),
    label       VARCHAR(64) NOT NULL,
    sort_order  INTEGER NOT NULL,
    is_closed   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO sag_statuses (key, label, sort_order, is_closed) VALUES
    ('new', 'New', 10, FALSE),
    ('in_progress', 'In progress', 20, FALSE),
    ('waiting_customer', 'Waiting for customer', 30, FALSE),
    ('on_hold', 'On hold', 40, FALSE),
    ('resolved', 'Resolved', 50, TRUE),
    ('closed', 'Closed', 60, TRUE);

CREATE TABLE sag_sager (
    id              SERIAL PRIMARY KEY,
    title           VARCHAR(200) NOT NULL CHECK (btrim(title) <> ''),
    description     TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    customer_id     INTEGER REFERENCES customers(id) ON DELETE RESTRICT,
    status          VARCHAR(32) NOT NULL DEFAULT 'new' REFERENCES sag_statuses(key),
    priority        VARCHAR(8) NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    assigned_to     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_by      INTEGER REFERENCES users(id) ON DELETE SET NULL,
    deadline        TIMESTAMPTZ,
    closed_at       TIMESTAMPTZ,
    -- Optimistic concurrency: bumped by trigger whenever a user-visible field changes; an
    -- update names the version it was based on and is refused (409) when it is stale.
    version         INTEGER NOT NULL DEFAULT 1,
    -- What the list's text search matches: lower-cased once on write, so a search is a plain
    -- LIKE on a stored value that the trigram index answers (ILIKE on title || description
    -- re-lowercases every candidate and the planner misjudges it as nearly free).
    search_text     TEXT GENERATED ALWAYS AS (lower(title || ' ' || description)) STORED,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TRIGGER sag_sager_set_updated_at BEFORE UPDATE ON sag_sager
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE sag_status_history (
    id          BIGSERIAL PRIMARY KEY,
    sag_id      INTEGER NOT NULL REFERENCES sag_sager(id) ON DELETE CASCADE,
    from_status VARCHAR(32) REFERENCES sag_statuses(key),
    to_status   VARCHAR(32) NOT NULL REFERENCES sag_statuses(key),
    changed_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- Optional reason given with the change (transaction-local setting sag.status_note).
    note        VARCHAR(500),
    changed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sag_status_history_sag_idx ON sag_status_history (sag_id, changed_at);

-- closed_at, created_by and version kept true on every write; each status change recorded
-- in sag_status_history (functions in cases/functions/).
CREATE TRIGGER sag_sager_track_status BEFORE INSERT OR UPDATE ON sag_sager
    FOR EACH ROW EXECUTE FUNCTION sag_track_status();

CREATE TRIGGER sag_sager_status_history AFTER INSERT OR UPDATE OF status ON sag_sager
    FOR EACH ROW EXECUTE FUNCTION sag_record_status_history();

-- Indexes for the list filters: my open cases, overdue / due soon, by customer, by status,
-- recently updated, text search in title and description.
CREATE INDEX sag_sager_assigned_open_idx ON sag_sager (assigned_to, deadline) WHERE closed_at IS NULL;
CREATE INDEX sag_sager_open_deadline_idx ON sag_sager (deadline) WHERE closed_at IS NULL AND deadline IS NOT NULL;
CREATE INDEX sag_sager_customer_idx ON sag_sager (customer_id, updated_at DESC);
CREATE INDEX sag_sager_status_idx ON sag_sager (status);
-- (x, id) serves both sort directions and the id tie-break of the list's sorts.
CREATE INDEX sag_sager_updated_idx ON sag_sager (updated_at, id);
CREATE INDEX sag_sager_created_idx ON sag_sager (created_at, id);
CREATE INDEX sag_sager_search_trgm_idx ON sag_sager USING gin (search_text gin_trgm_ops);
