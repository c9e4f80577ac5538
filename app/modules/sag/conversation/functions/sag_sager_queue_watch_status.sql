-- A case's status changed: one `watch` event for its watchers (the worker leaves out whoever
-- made the change). Cases nobody watches queue nothing.
CREATE OR REPLACE FUNCTION sag_sager_queue_watch_status() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    notified TEXT;
BEGIN
    IF EXISTS (SELECT 1 FROM sag_watchers w WHERE w.sag_id = NEW.id AND NOT w.unwatched) THEN
        INSERT INTO sag_reminder_queue (sag_id, kind, trigger_type, event_data)
        VALUES (NEW.id, 'watch', 'watch', jsonb_build_object('what', 'status', 'from', OLD.status,
                                                             'to', NEW.status, 'changed_by', sag_acting_user()));
        notified := pg_notify('sag_reminder_queue', '')::text;
    END IF;
    RETURN NULL;
END;
$$;
