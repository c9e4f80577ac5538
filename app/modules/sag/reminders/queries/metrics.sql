-- name: queue_by_status
-- Reminder events per status and kind; status-change firings still in the inbox count as 'inbox'.
SELECT status, kind, count(*) AS n FROM sag_reminder_queue GROUP BY status, kind
UNION ALL
SELECT 'inbox', 'rule', count(*) FROM sag_reminder_inbox;

-- name: oldest_due_age
-- Seconds the longest-waiting due event has waited (0 when none): the queue's lag.
SELECT COALESCE(extract(epoch FROM now() - least(
           (SELECT min(scheduled_for) FROM sag_reminder_queue WHERE status = 'pending' AND scheduled_for <= now()),
           (SELECT min(created_at) FROM sag_reminder_inbox))), 0)::float8 AS age_s;

-- name: notifications_by_outcome
-- Notifications (log rows) per channel and outcome.
SELECT channel, status, count(*) AS n FROM sag_reminder_logs GROUP BY channel, status;

-- name: email_retries
-- Extra attempts of events that send e-mail: each is a retry after a failed (or cut-off) delivery.
SELECT COALESCE(sum(q.attempts - 1), 0)::bigint AS n
FROM sag_reminder_queue q
WHERE q.attempts > 1
  AND EXISTS (SELECT 1 FROM sag_reminder_logs l WHERE l.event_id = q.id AND l.channel = 'email');
