-- The conversation, part two: notes found by the case list's text search, notes counting as
-- activity on their case, the history of assignments and deadline changes the timeline shows,
-- and the creator of a case told the same way in its details and its history.
-- The functions are in conversation/functions/ and cases/functions/.

-- The words of a case's (not deleted) notes, kept by the sag_notes triggers below, so the list's
-- search finds a case by its notes with one more index on the same table (no join per row).
-- NULL: the case has no notes.
ALTER TABLE sag_sager ADD COLUMN notes_search tsvector;
CREATE INDEX sag_sager_notes_search_idx ON sag_sager USING gin (notes_search);

-- Statement triggers with transition tables: a bulk load of notes (COPY) rewrites each case once.
-- They also bump the case's updated_at (activity for inactivity rules; never its version) and,
-- for new notes, give the SLA clock its first response.
CREATE TRIGGER sag_notes_added AFTER INSERT ON sag_notes
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION sag_notes_added();
CREATE TRIGGER sag_notes_changed AFTER UPDATE ON sag_notes
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION sag_notes_changed();

-- Assignments and deadline changes, with who made them (the status history's counterpart).
CREATE TABLE sag_case_changes (
    id              BIGSERIAL PRIMARY KEY,
    sag_id          INTEGER NOT NULL REFERENCES sag_sager(id) ON DELETE CASCADE,
    field           VARCHAR(16) NOT NULL CHECK (field IN ('assigned_to', 'deadline')),
    from_user       INTEGER REFERENCES users(id) ON DELETE SET NULL,
    to_user         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    from_deadline   TIMESTAMPTZ,
    to_deadline     TIMESTAMPTZ,
    changed_by      INTEGER REFERENCES users(id) ON DELETE SET NULL,
    changed_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sag_case_changes_sag_idx ON sag_case_changes (sag_id, changed_at);

CREATE TRIGGER sag_sager_record_changes AFTER UPDATE OF assigned_to, deadline ON sag_sager
    FOR EACH ROW
    WHEN (OLD.assigned_to IS DISTINCT FROM NEW.assigned_to OR OLD.deadline IS DISTINCT FROM NEW.deadline)
    EXECUTE FUNCTION sag_record_case_changes();

-- "Created as ..." now names the case's creator (sag_record_status_history.sql); entries written
-- before named whoever the transaction acted as (the demo's previous actor, for one).
UPDATE sag_status_history h SET changed_by = s.created_by
FROM sag_sager s
WHERE h.sag_id = s.id AND h.from_status IS NULL AND s.created_by IS NOT NULL
  AND h.changed_by IS DISTINCT FROM s.created_by;
