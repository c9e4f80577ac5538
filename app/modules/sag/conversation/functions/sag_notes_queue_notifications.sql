-- The notes' trigger: a new note makes its author a watcher and queues a `mention` and a `watch`
-- event; an edit of the text queues a `mention` event with the text before and after (the handler
-- notifies only mentions the edit added). The worker parses the mentions (conversation/mentions.py).
CREATE OR REPLACE FUNCTION sag_notes_queue_notifications() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    notified TEXT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.author_id IS NOT NULL THEN
            INSERT INTO sag_watchers (sag_id, user_id, reason) VALUES (NEW.sag_id, NEW.author_id, 'note')
            ON CONFLICT (sag_id, user_id) DO NOTHING;
        END IF;
        INSERT INTO sag_reminder_queue (sag_id, kind, trigger_type, event_data)
        VALUES (NEW.sag_id, 'mention', 'mention', jsonb_build_object('note_id', NEW.id)),
               (NEW.sag_id, 'watch', 'watch', jsonb_build_object('note_id', NEW.id, 'what', 'note'));
    ELSE
        INSERT INTO sag_reminder_queue (sag_id, kind, trigger_type, event_data)
        VALUES (NEW.sag_id, 'mention', 'mention',
                jsonb_build_object('note_id', NEW.id, 'edit', TRUE, 'previous', OLD.body, 'body', NEW.body));
    END IF;
    notified := pg_notify('sag_reminder_queue', '')::text;
    RETURN NULL;
END;
$$;
