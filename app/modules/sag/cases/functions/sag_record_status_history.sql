-- Records each status change (and the first status of a new case) in sag_status_history,
-- with the acting user and the optional note (transaction-local setting sag.status_note). The
-- first entry names the case's creator (created_by, which sag_track_status fills from the acting
-- user when not given), so the details and the history never disagree about who created it.
CREATE OR REPLACE FUNCTION sag_record_status_history() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    note VARCHAR(500) := left(NULLIF(current_setting('sag.status_note', true), ''), 500);
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO sag_status_history (sag_id, from_status, to_status, changed_by, note)
        VALUES (NEW.id, NULL, NEW.status, COALESCE(NEW.created_by, sag_acting_user()), note);
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO sag_status_history (sag_id, from_status, to_status, changed_by, note)
        VALUES (NEW.id, OLD.status, NEW.status, sag_acting_user(), note);
    END IF;
    RETURN NULL;
END;
$$;
