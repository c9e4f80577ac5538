-- The browser contract: every delivered in-app row, and every interaction change, is pushed
-- on channel bmc_user_notifications as {"user_id", "log_id", "event": "reminder"|"update", ...}
-- from inside the writing transaction.
-- Rows of the events listed in the transaction-local setting `sag.held_events` are not pushed:
-- the worker groups them first (reminders/storms.py) and pushes the group, or a lone row itself.
CREATE OR REPLACE FUNCTION sag_reminder_logs_notify_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bmc_user_notifications',
                      json_build_object('user_id', n.user_id, 'log_id', n.id, 'event', 'reminder',
                                        'sag_id', n.sag_id, 'priority', n.priority)::text)
    FROM new_logs n
    WHERE n.channel = 'in_app' AND n.status = 'sent' AND n.user_id IS NOT NULL
      AND NOT COALESCE(n.event_id = ANY (string_to_array(
              NULLIF(current_setting('sag.held_events', true), ''), ',')::bigint[]), FALSE);
    RETURN NULL;
END;
$$;
