-- Rule changes: deleting or deactivating cancels everything pending for the rule; creating or
-- changing its trigger (re)schedules: deadline events per case, sla thresholds per case
-- (moved in place, sag_schedule_sla.sql), or the next tick at next_run_at.
CREATE OR REPLACE FUNCTION sag_reminders_schedule() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NOT NEW.active THEN
        UPDATE sag_reminder_queue
        SET status = 'cancelled', processed_at = now(), updated_at = now(),
            last_error = CASE WHEN TG_OP = 'DELETE' THEN 'rule deleted' ELSE 'rule deactivated' END
        WHERE reminder_id = OLD.id AND status = 'pending' AND NOT (kind = 'rule' AND trigger_type = 'status_change');
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NULL END;
    END IF;

    UPDATE sag_reminder_queue
    SET status = 'cancelled', last_error = 'rule rescheduled', processed_at = now(), updated_at = now()
    WHERE reminder_id = NEW.id AND status = 'pending' AND NOT (kind = 'rule' AND trigger_type = 'status_change')
      AND (kind = 'tick' OR (kind = 'rule' AND trigger_type = 'deadline')
           OR (TG_OP = 'UPDATE' AND (OLD.trigger_type, OLD.trigger_config, OLD.sag_id)
                                    IS DISTINCT FROM (NEW.trigger_type, NEW.trigger_config, NEW.sag_id)));

    IF NEW.trigger_type = 'deadline' THEN
        PERFORM sag_schedule_deadlines(NULL, NEW.id);
    ELSIF NEW.trigger_type = 'sla' THEN
        PERFORM sag_schedule_sla(NULL, NEW.id);
    ELSIF NEW.trigger_type IN ('scheduled', 'recurring', 'inactivity') AND NEW.next_run_at IS NOT NULL THEN
        INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, event_data, dedup_key, scheduled_for)
        VALUES (NEW.id, NEW.sag_id, 'tick', NEW.trigger_type,
                jsonb_build_object('prev', NEW.last_run_at), 'tick:' || NEW.id, NEW.next_run_at)
        ON CONFLICT (dedup_key) WHERE status = 'pending' AND dedup_key IS NOT NULL DO NOTHING;
        PERFORM pg_notify('sag_reminder_queue', '');
    END IF;
    RETURN NULL;
END;
$$;
