-- The update half of the browser contract: an in-app row that becomes sent (it was held back)
-- is pushed as "reminder", an interaction change (seen, clicked, dismissed, snoozed,
-- acknowledged) as "update". A row released as part of an opening-hours summary
-- (`in_summary`) is not pushed on its own: the summary is.
CREATE OR REPLACE FUNCTION sag_reminder_logs_notify_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bmc_user_notifications',
                      json_build_object('user_id', n.user_id, 'log_id', n.id,
                                        'event', CASE WHEN n.channel = 'in_app' AND n.status = 'sent'
                                                           AND o.status <> 'sent' AND NOT n.in_summary
                                                      THEN 'reminder' ELSE 'update' END,
                                        'channel', n.channel)::text)
    FROM new_logs n JOIN old_logs o ON o.id = n.id
    WHERE n.user_id IS NOT NULL
      AND ((n.channel = 'in_app' AND n.status = 'sent' AND o.status <> 'sent' AND NOT n.in_summary)
           OR (n.seen_at, n.clicked_at, n.dismissed_at, n.snoozed_until, n.acknowledged_at)
              IS DISTINCT FROM (o.seen_at, o.clicked_at, o.dismissed_at, o.snoozed_until, o.acknowledged_at));
    RETURN NULL;
END;
$$;
