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

-- The acting user reaches triggers through the transaction-local setting bmc.user_id
-- (set by app.core.database); NULL when the change comes from psql or a script.
CREATE OR REPLACE FUNCTION sag_acting_user() RETURNS INTEGER
LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('bmc.user_id', true), '')::integer
$$;

-- Keeps closed_at true to the status on every write (not only when status is in the SET
-- list), fills created_by from the acting user and bumps the version.
CREATE OR REPLACE FUNCTION sag_track_status() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    closed BOOLEAN;
BEGIN
    SELECT is_closed INTO closed FROM sag_statuses WHERE key = NEW.status;
    -- Moving between two closed statuses (resolved -> closed) keeps the first closing time.
    IF closed THEN
        IF NEW.closed_at IS NULL THEN
            NEW.closed_at := now();
        END IF;
    ELSE
        NEW.closed_at := NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.created_by IS NULL THEN
            NEW.created_by := sag_acting_user();
        END IF;
        NEW.version := 1;
    ELSIF ROW(NEW.title, NEW.description, NEW.customer_id, NEW.status, NEW.priority, NEW.assigned_to,
              NEW.deadline)
          IS DISTINCT FROM ROW(OLD.title, OLD.description, OLD.customer_id, OLD.status, OLD.priority,
                               OLD.assigned_to, OLD.deadline) THEN
        NEW.version := OLD.version + 1;
    ELSE
        NEW.version := OLD.version;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER sag_sager_track_status BEFORE INSERT OR UPDATE ON sag_sager
    FOR EACH ROW EXECUTE FUNCTION sag_track_status();

CREATE OR REPLACE FUNCTION sag_record_status_history() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    note VARCHAR(500) := left(NULLIF(current_setting('sag.status_note', true), ''), 500);
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO sag_status_history (sag_id, from_status, to_status, changed_by, note)
        VALUES (NEW.id, NULL, NEW.status, COALESCE(sag_acting_user(), NEW.created_by), note);
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO sag_status_history (sag_id, from_status, to_status, changed_by, note)
        VALUES (NEW.id, OLD.status, NEW.status, sag_acting_user(), note);
    END IF;
    RETURN NULL;
END;
$$;
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
