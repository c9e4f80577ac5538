-- A case's status changed: one `watch` event for its watchers (the worker leaves out whoever
-- made the change, and those a status-change rule notified of it). Cases nobody watches queue
-- nothing. The event waits `settle` so that the rules' firings of the same change (due at once)
-- are handled first and the handler can leave their recipients out.
CREATE OR REPLACE FUNCTION sag_sager_queue_watch_status() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    settle CONSTANT INTERVAL := interval '5 seconds';
    notified TEXT;
BEGIN
    IF EXISTS (SELECT 1 FROM sag_watchers w WHERE w.sag_id = NEW.id AND NOT w.unwatched) THEN
        INSERT INTO sag_reminder_queue (sag_id, kind, trigger_type, event_data, scheduled_for)
        VALUES (NEW.id, 'watch', 'watch', jsonb_build_object('what', 'status', 'from', OLD.status,
                                                             'to', NEW.status, 'changed_by', sag_acting_user()),
                now() + settle);
        notified := pg_notify('sag_reminder_queue', '')::text;
    END IF;
    RETURN NULL;
END;
$$;
