-- @mentions and watchers (issue 10): the triggers that queue `mention` and `watch` events for
-- the reminder worker and keep the automatic watchers (assignee, creator, note authors). The
-- worker's handlers (conversation/mentions.py) parse the mentions and pick the recipients;
-- the trigger functions are in conversation/functions/.

-- A new note queues a `mention` and a `watch` event and makes its author a watcher; an edit of
-- the text queues a `mention` event carrying the text before and after (only new mentions notify).
CREATE TRIGGER sag_notes_queue_notifications AFTER INSERT ON sag_notes
    FOR EACH ROW EXECUTE FUNCTION sag_notes_queue_notifications();
CREATE TRIGGER sag_notes_queue_mentions_on_edit AFTER UPDATE OF body ON sag_notes
    FOR EACH ROW WHEN (OLD.body IS DISTINCT FROM NEW.body AND NEW.deleted_at IS NULL)
    EXECUTE FUNCTION sag_notes_queue_notifications();

-- A status change queues one `watch` event when the case has watchers.
CREATE TRIGGER sag_sager_queue_watch_status AFTER UPDATE OF status ON sag_sager
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION sag_sager_queue_watch_status();

-- The creator and (each new) assignee watch the case unless they unwatched it.
CREATE TRIGGER sag_sager_auto_watchers AFTER INSERT OR UPDATE OF assigned_to ON sag_sager
    FOR EACH ROW EXECUTE FUNCTION sag_sager_auto_watchers();

-- Cases and notes made before this migration get their automatic watchers too.
INSERT INTO sag_watchers (sag_id, user_id, reason)
SELECT id, created_by, 'creator' FROM sag_sager WHERE created_by IS NOT NULL
ON CONFLICT (sag_id, user_id) DO NOTHING;
INSERT INTO sag_watchers (sag_id, user_id, reason)
SELECT id, assigned_to, 'assignee' FROM sag_sager WHERE assigned_to IS NOT NULL
ON CONFLICT (sag_id, user_id) DO NOTHING;
INSERT INTO sag_watchers (sag_id, user_id, reason)
SELECT DISTINCT sag_id, author_id, 'note' FROM sag_notes WHERE author_id IS NOT NULL
ON CONFLICT (sag_id, user_id) DO NOTHING;
