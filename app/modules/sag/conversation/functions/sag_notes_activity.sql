-- What a note changes on its case: the words the list's search finds (sag_sager.notes_search,
-- deleted notes left out) and updated_at (by the sag_sager trigger; version stays, because
-- sag_track_status bumps it only for the case's own fields). A new note may be the first response
-- of the SLA clock (sag_sla_refresh counts notes by someone other than the creator).

-- The search words of these cases again, from their notes that are not deleted.
CREATE OR REPLACE FUNCTION sag_notes_reindex(case_ids INTEGER[]) RETURNS VOID
LANGUAGE sql AS $$
    UPDATE sag_sager s
    SET notes_search = (SELECT to_tsvector('simple', string_agg(n.body, E'\n' ORDER BY n.id))
                        FROM sag_notes n WHERE n.sag_id = s.id AND n.deleted_at IS NULL)
    WHERE s.id = ANY(case_ids)
$$;

-- Statement trigger AFTER INSERT ON sag_notes (transition table `changed`).
CREATE OR REPLACE FUNCTION sag_notes_added() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids INTEGER[] := ARRAY(SELECT DISTINCT sag_id FROM changed);
BEGIN
    PERFORM sag_notes_reindex(ids);
    -- Only a clock still waiting for its first response can change: a note is never earlier
    -- than a response already given.
    PERFORM sag_sla_refresh(k.sag_id) FROM sag_sla_clocks k
    WHERE k.sag_id = ANY(ids) AND k.first_response_at IS NULL;
    RETURN NULL;
END;
$$;

-- Statement trigger AFTER UPDATE ON sag_notes (transition tables `before`, `changed`): the cases
-- whose notes changed text or were deleted (or restored).
CREATE OR REPLACE FUNCTION sag_notes_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sag_notes_reindex(ARRAY(
        SELECT DISTINCT c.sag_id FROM changed c JOIN before b ON b.id = c.id
        WHERE c.body IS DISTINCT FROM b.body OR (c.deleted_at IS NULL) <> (b.deleted_at IS NULL)));
    RETURN NULL;
END;
$$;
