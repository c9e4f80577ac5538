-- The creator (on insert) and each new assignee become watchers of the case; a row already there
-- (in particular one with `unwatched`, the user's own choice) is left as it is.
CREATE OR REPLACE FUNCTION sag_sager_auto_watchers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.created_by IS NOT NULL THEN
        INSERT INTO sag_watchers (sag_id, user_id, reason) VALUES (NEW.id, NEW.created_by, 'creator')
        ON CONFLICT (sag_id, user_id) DO NOTHING;
    END IF;
    IF NEW.assigned_to IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.assigned_to IS DISTINCT FROM NEW.assigned_to) THEN
        INSERT INTO sag_watchers (sag_id, user_id, reason) VALUES (NEW.id, NEW.assigned_to, 'assignee')
        ON CONFLICT (sag_id, user_id) DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
