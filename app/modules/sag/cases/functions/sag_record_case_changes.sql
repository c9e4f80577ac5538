-- Records each assignment and deadline change of a case in sag_case_changes, with the acting
-- user (the status history's counterpart, for the case timeline).
CREATE OR REPLACE FUNCTION sag_record_case_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.assigned_to IS DISTINCT FROM OLD.assigned_to THEN
        INSERT INTO sag_case_changes (sag_id, field, from_user, to_user, changed_by)
        VALUES (NEW.id, 'assigned_to', OLD.assigned_to, NEW.assigned_to, sag_acting_user());
    END IF;
    IF NEW.deadline IS DISTINCT FROM OLD.deadline THEN
        INSERT INTO sag_case_changes (sag_id, field, from_deadline, to_deadline, changed_by)
        VALUES (NEW.id, 'deadline', OLD.deadline, NEW.deadline, sag_acting_user());
    END IF;
    RETURN NULL;
END;
$$;
