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
