-- The cases' reminder trigger, one function for both of its jobs:
-- * a status change enqueues the matching active status_change rules (case-specific and
--   global) in the same transaction; a new case counts as a change from nothing into its
--   first status;
-- * closing a case cancels its pending time-based events (status-change events still fire);
--   a deadline change or reopening reschedules the deadline events.
-- One row trigger with one WHEN clause rather than a trigger per job: the server prepares a
-- trigger's WHEN clause afresh for every UPDATE statement, and with two triggers that was
-- a large share of what the reminders added to each status update. Edits that touch neither
-- status, deadline nor closing never enter PL/pgSQL. (closed_at follows the status, but is
-- tested too: a status reconfigured as closed closes a case on its next edit.)
CREATE OR REPLACE FUNCTION sag_cases_reminders() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_status VARCHAR(32) := CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END;
    notified TEXT;
BEGIN
    IF TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status THEN
        INSERT INTO sag_reminder_inbox (reminder_id, sag_id, event_data)
        SELECT r.id, NEW.id, jsonb_build_object('from', old_status, 'to', NEW.status,
                                                'changed_by', sag_acting_user())
        FROM sag_reminders r
        WHERE r.active AND r.trigger_type = 'status_change'
          AND (r.sag_id IS NULL OR r.sag_id = NEW.id)
          AND (r.from_status IS NULL OR r.from_status = old_status)
          AND (r.to_status IS NULL OR r.to_status = NEW.status);
        IF FOUND THEN
            -- An assignment is evaluated as a plain expression; PERFORM would run a whole
            -- query (about 1 us more per status update). The server sends repeated
            -- notifications of one transaction (same channel and payload) once, at commit.
            notified := pg_notify('sag_reminder_queue', '')::text;
        END IF;
    END IF;

    IF TG_OP = 'UPDATE' AND NEW.closed_at IS NOT NULL AND OLD.closed_at IS NULL THEN
        UPDATE sag_reminder_queue
        SET status = 'cancelled', last_error = 'case closed', processed_at = now(), updated_at = now()
        WHERE sag_id = NEW.id AND status = 'pending' AND NOT (kind = 'rule' AND trigger_type = 'status_change');
    ELSIF NEW.closed_at IS NULL
          AND ((TG_OP = 'INSERT' AND NEW.deadline IS NOT NULL)
               OR (TG_OP = 'UPDATE' AND (OLD.deadline IS DISTINCT FROM NEW.deadline OR OLD.closed_at IS NOT NULL))) THEN
        IF TG_OP = 'UPDATE' THEN
            UPDATE sag_reminder_queue
            SET status = 'cancelled', last_error = 'deadline changed', processed_at = now(), updated_at = now()
            WHERE sag_id = NEW.id AND status = 'pending' AND NOT (kind = 'rule' AND trigger_type = 'status_change')
              AND kind = 'rule' AND trigger_type = 'deadline';
        END IF;
        PERFORM sag_schedule_deadlines(ARRAY[NEW.id], NULL);
    END IF;
    RETURN NULL;
END;
$$;
