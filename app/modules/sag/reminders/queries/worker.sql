-- name: claim_batch
-- Claim due (and lease-expired) events and return each with its rule and case; `now` is the claim time.
-- (The rule's trigger_config only for its ticks, the one kind that reads it: a JSON value less to parse per firing.)
SELECT e.id, e.reminder_id, e.sag_id, e.kind, e.trigger_type, e.target_user_id, e.event_data,
       e.scheduled_for, e.attempts, e.updated_at AS now,
       r.name AS rule_name, r.active AS rule_active, CASE WHEN e.kind = 'tick' THEN r.trigger_config END AS trigger_config,
       r.title_template, r.message_template, r.escalate_after, r.escalate_role, r.repeat_every_hours,
       r.sag_id AS rule_sag_id, r.channels, r.last_run_at AS rule_last_run_at, r.group_window_minutes,
       s.title AS case_title, s.description, s.status, st.label AS status_label, st.label_da AS status_label_da, s.priority AS case_priority,
       s.deadline, s.closed_at, s.updated_at AS case_updated_at,
       c.name AS customer_name, COALESCE(NULLIF(au.full_name, ''), au.username) AS assignee_name
FROM sag_claim_reminder_events(%(worker)s, %(limit)s, %(lease_s)s, clock_timestamp() + %(offset)s) AS e
LEFT JOIN sag_reminders r ON r.id = e.reminder_id
LEFT JOIN sag_sager s ON s.id = e.sag_id
LEFT JOIN sag_statuses st ON st.key = s.status
LEFT JOIN customers c ON c.id = s.customer_id
LEFT JOIN users au ON au.id = s.assigned_to
ORDER BY e.id;

-- name: seconds_until_due
-- How long an idle worker may sleep: not at all with firings in the inbox, else until the next pending event or lease expiry.
SELECT CASE WHEN EXISTS (SELECT 1 FROM sag_reminder_inbox) THEN 0::float8 ELSE EXTRACT(EPOCH FROM (
           least((SELECT min(scheduled_for) FROM sag_reminder_queue WHERE status = 'pending'),
                 (SELECT min(lease_expires_at) FROM sag_reminder_queue WHERE status = 'processing'))
           - (clock_timestamp() + %(offset)s)))::float8 END AS wait_s;

-- name: write_batch
-- Reserve the hourly limit (committed), then write the batch's log rows, summaries and repeats (committed): one round trip, two transactions (functions/sag_reminder_write_batch.sql).
CALL sag_reminder_write_batch(%(ids)s::bigint[], %(escalate)s::boolean[], %(now)s, %(default_max)s, %(channels)s::jsonb,
                              %(texts)s::jsonb, %(escalated_prefixes)s::jsonb, %(localized)s::jsonb,
                              %(finish_ids)s::bigint[]);

-- name: reserve_rate
-- The first half of write_batch alone (a batch whose storms are grouped in the write's transaction): the destinations, as text, for deliver_batch.
SELECT sag_reminder_reserve(%(ids)s::bigint[], %(escalate)s::boolean[], %(now)s, %(default_max)s,
                            %(channels)s::jsonb)::text AS destinations;

-- name: deliver_batch
-- The second half of write_batch alone, in the caller's transaction: the log rows of reserve_rate's destinations.
SELECT written, delivered
FROM sag_reminder_deliver(%(ids)s::bigint[], %(now)s, %(destinations)s::sag_reminder_destination[], %(channels)s::jsonb, %(texts)s::jsonb,
                          %(escalated_prefixes)s::jsonb, %(localized)s::jsonb, %(finish_ids)s::bigint[]);

-- name: read_pending_rows
-- One channel's log rows of these events still to be handed to its transport, with the case details they show, the recipient's language and the kind (e-mail unsubscribe).
SELECT l.id, l.event_id, l.user_id, l.email, l.title, l.message, l.priority, l.escalated, l.sag_id, l.rule_id,
       s.title AS case_title, s.description, s.status, st.label AS status_label, st.label_da AS status_label_da, s.priority AS case_priority,
       s.deadline, c.name AS customer_name, COALESCE(NULLIF(au.full_name, ''), au.username) AS assignee_name,
       u.timezone, u.language, COALESCE(NULLIF(u.full_name, ''), u.username) AS user_name, q.trigger_type
-- (Each event's rows looked up by its id (the delivery key), whatever the statistics say: with the
-- log's statistics saying nearly no row is pending, a join let the planner expect one row and
-- compare every row of the log with every id, 50-100 ms a batch; `= ANY (500 constants)` made
-- it estimate each id, 9 ms a batch. OFFSET 0 keeps the lookup a lookup.)
FROM unnest(%(event_ids)s::bigint[]) AS k (event_id)
CROSS JOIN LATERAL (
    SELECT l.* FROM sag_reminder_logs l
    WHERE l.event_id = k.event_id AND l.channel = %(channel)s AND l.status = 'pending'
      AND l.group_id IS NULL  -- rows of a grouped reminder go out in its one message (storms.py)
    OFFSET 0
) AS l
JOIN sag_sager s ON s.id = l.sag_id
LEFT JOIN sag_reminder_queue q ON q.id = l.event_id
LEFT JOIN sag_statuses st ON st.key = s.status
LEFT JOIN customers c ON c.id = s.customer_id
LEFT JOIN users au ON au.id = s.assigned_to
LEFT JOIN users u ON u.id = l.user_id
ORDER BY l.event_id, l.id;  -- an event's recipients side by side: one chunk shares its rendering

-- name: read_pending_log_rows
-- read_pending_rows without the case's details, for a caller that has them from its claim (the worker's batch): the log rows and the recipient.
SELECT l.id, l.event_id, l.user_id, l.email, l.title, l.message, l.priority, l.escalated, l.sag_id, l.rule_id,
       u.timezone, u.language, COALESCE(NULLIF(u.full_name, ''), u.username) AS user_name
FROM unnest(%(event_ids)s::bigint[]) AS k (event_id)
CROSS JOIN LATERAL (  -- (a lookup per event, as in read_pending_rows)
    SELECT l.* FROM sag_reminder_logs l
    WHERE l.event_id = k.event_id AND l.channel = %(channel)s AND l.status = 'pending' AND l.group_id IS NULL
    OFFSET 0
) AS l
LEFT JOIN users u ON u.id = l.user_id
ORDER BY l.event_id, l.id;

-- name: record_results
-- Mark handed-over rows sent, or store the error (final = mark failed).
UPDATE sag_reminder_logs l
SET status = CASE WHEN r.error IS NULL THEN 'sent' WHEN %(final)s THEN 'failed' ELSE l.status END,
    sent_at = CASE WHEN r.error IS NULL THEN %(now)s::timestamptz ELSE l.sent_at END,
    error = r.error, updated_at = %(now)s
FROM unnest(%(ids)s::bigint[], %(errors)s::text[]) AS r (id, error)
WHERE l.id = r.id;

-- name: finish_events
-- Events fully handled.
UPDATE sag_reminder_queue
SET status = 'sent', processed_at = %(now)s, lease_owner = NULL, lease_expires_at = NULL,
    last_error = NULL, updated_at = %(now)s
WHERE id = ANY (%(ids)s) AND status = 'processing';

-- name: close_events
-- Events skipped or failed for good, each with its reason.
UPDATE sag_reminder_queue q
SET status = r.status, last_error = r.reason, processed_at = %(now)s, lease_owner = NULL,
    lease_expires_at = NULL, updated_at = %(now)s
FROM unnest(%(ids)s::bigint[], %(statuses)s::text[], %(reasons)s::text[]) AS r (id, status, reason)
WHERE q.id = r.id AND q.status = 'processing';

-- name: retry_events
-- Back to pending after a delay (exponential backoff), or failed once the attempts are used up.
UPDATE sag_reminder_queue q
SET status = CASE WHEN q.attempts >= %(max_attempts)s THEN 'failed' ELSE 'pending' END,
    scheduled_for = CASE WHEN q.attempts >= %(max_attempts)s THEN q.scheduled_for
                         ELSE %(now)s::timestamptz + make_interval(
                             secs => least(%(max_backoff_s)s, %(base_backoff_s)s * power(2, q.attempts - 1))) END,
    processed_at = CASE WHEN q.attempts >= %(max_attempts)s THEN %(now)s::timestamptz END,
    last_error = r.error, lease_owner = NULL, lease_expires_at = NULL, updated_at = %(now)s
FROM unnest(%(ids)s::bigint[], %(errors)s::text[]) AS r (id, error)
WHERE q.id = r.id AND q.status = 'processing'
RETURNING q.id, q.status;

-- name: fail_pending_rows
-- The event gave up: its rows that never went out (on any channel that delivers later) are failed, with the last error.
UPDATE sag_reminder_logs
SET status = 'failed', error = COALESCE(error, %(error)s), updated_at = %(now)s
WHERE event_id = ANY (%(event_ids)s) AND status = 'pending';

-- name: expand_tick
-- A time-based rule's tick: one `rule` event per matching open case (inactivity: those that went quiet in this window).
INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, event_data, dedup_key, scheduled_for)
SELECT r.id, s.id, 'rule', r.trigger_type,
       jsonb_build_object('tick', %(tick_id)s::bigint, 'inactive_since', s.updated_at)
           || CASE WHEN %(first_run)s THEN '{"first_run": true}'::jsonb ELSE '{}'::jsonb END,
       'fire:' || %(tick_id)s::bigint || ':' || s.id, %(now)s
FROM sag_reminders r
JOIN sag_sager s ON (r.sag_id IS NULL OR s.id = r.sag_id)
WHERE r.id = %(rule_id)s AND s.closed_at IS NULL
  AND (r.trigger_type <> 'inactivity'
       OR (sag_rule_offset(r.trigger_config, s.updated_at, 1)
               > COALESCE(%(prev)s::timestamptz, '-infinity'::timestamptz)
           AND sag_rule_offset(r.trigger_config, s.updated_at, 1) <= %(now)s))
ON CONFLICT (dedup_key) WHERE status = 'pending' AND dedup_key IS NOT NULL DO NOTHING;

-- name: next_inactivity_run
-- When the next open case in the rule's scope reaches N (working) days or hours without an update.
SELECT COALESCE(min(sag_rule_offset(r.trigger_config, s.updated_at, 1)),
                sag_rule_offset(r.trigger_config, %(now)s::timestamptz, 1)) AS next_run_at
FROM sag_reminders r
LEFT JOIN sag_sager s ON (r.sag_id IS NULL OR s.id = r.sag_id) AND s.closed_at IS NULL
     AND sag_rule_offset(r.trigger_config, s.updated_at, 1) > %(now)s
WHERE r.id = %(rule_id)s
GROUP BY r.id;

-- name: advance_rule
-- Record a tick and set the next one (the rule trigger queues it).
UPDATE sag_reminders SET last_run_at = %(now)s, next_run_at = %(next_run_at)s WHERE id = %(rule_id)s;

-- name: read_user_for_summary
-- A summary's recipient with the language it is written in and the preferences that decide its channels (the row as JSON: channels name their switch column).
SELECT u.id, u.email, u.active, u.timezone, u.language, COALESCE(NULLIF(u.full_name, ''), u.username) AS user_name,
       to_jsonb(p) AS prefs,
       sag_quiet_until(u.timezone, p.quiet_hours_start, p.quiet_hours_end, %(now)s) AS quiet_until
FROM users u LEFT JOIN user_notification_preferences p ON p.user_id = u.id
WHERE u.id = %(user_id)s;

-- name: read_held_back
-- The user's rate-limited reminders of one window (one row per reminder, whatever its channels).
SELECT DISTINCT ON (l.event_id) l.event_id, l.title, l.sag_id, s.title AS case_title
FROM sag_reminder_logs l LEFT JOIN sag_sager s ON s.id = l.sag_id
WHERE l.user_id = %(user_id)s AND l.is_held_back  -- status 'rate_limited' (migration 018)
  AND l.created_at >= %(window_start)s::timestamptz
  AND l.created_at < %(window_start)s::timestamptz + interval '1 hour'
ORDER BY l.event_id;

-- name: read_deferred
-- The user's rows deferred by quiet hours that are due now, with whether their channel is still wanted (current preferences: per-trigger override, else the channel's switch).
SELECT l.id, l.channel, l.title, l.message, l.sag_id, l.priority, s.title AS case_title,
       COALESCE((p.trigger_overrides -> COALESCE(r.trigger_type, q.trigger_type) ->> l.channel)::boolean,
                CASE WHEN (ch.kind_defaults ->> q.trigger_type)::boolean IS FALSE THEN FALSE END,
                (to_jsonb(p) ->> ch.switch)::boolean, TRUE) AS wanted
FROM sag_reminder_logs l
LEFT JOIN jsonb_to_recordset(%(channels)s::jsonb) AS ch (name text, switch text, kind_defaults jsonb)
     ON ch.name = l.channel
LEFT JOIN sag_sager s ON s.id = l.sag_id
LEFT JOIN sag_reminders r ON r.id = l.rule_id
-- A mention or watched-case row has no rule: its kind is the event's.
LEFT JOIN sag_reminder_queue q ON q.id = l.event_id
LEFT JOIN user_notification_preferences p ON p.user_id = l.user_id
WHERE l.user_id = %(user_id)s AND l.is_deferred AND l.deliver_after <= %(now)s  -- is_deferred: status 'deferred'
  AND NOT l.held_for_opening
ORDER BY l.id;

-- name: insert_summary_log
-- The log row of a summary (held back / digest) for one channel.
INSERT INTO sag_reminder_logs (event_id, user_id, email, recipient, channel, status, title, message, priority,
                               sent_at, created_at, updated_at)
VALUES (%(event_id)s, %(user_id)s, %(email)s, 'u:' || %(user_id)s::int, %(channel)s, %(status)s::text, %(title)s,
        %(message)s, 'normal', CASE WHEN %(status)s::text = 'sent' THEN %(now)s::timestamptz END, %(now)s, %(now)s)
ON CONFLICT ON CONSTRAINT sag_reminder_logs_delivery_key DO UPDATE SET updated_at = EXCLUDED.updated_at
RETURNING id, status;

-- name: mark_deferred_sent
-- The digest went out: its deferred rows are delivered (or failed for good).
UPDATE sag_reminder_logs
SET status = %(status)s::text, sent_at = CASE WHEN %(status)s::text = 'sent' THEN %(now)s::timestamptz END,
    error = %(error)s, updated_at = %(now)s
WHERE id = ANY (%(ids)s) AND status = 'deferred';

-- name: purge_rate_windows
-- Old rate-limit windows are no longer needed.
DELETE FROM sag_reminder_rate WHERE window_start < %(now)s::timestamptz - interval '1 day';

-- name: postpone_event
-- A summary that must wait (quiet hours): back to pending until then; the postponement is not an attempt.
UPDATE sag_reminder_queue
SET status = 'pending', scheduled_for = %(until)s, attempts = greatest(attempts - 1, 0), lease_owner = NULL,
    lease_expires_at = NULL, updated_at = %(now)s
WHERE id = %(id)s AND status = 'processing';

-- name: record_summary_result
-- The outcome of a held-back summary handed to a channel that delivers later.
UPDATE sag_reminder_logs
SET status = %(status)s::text, error = %(error)s, updated_at = %(now)s,
    sent_at = CASE WHEN %(status)s::text = 'sent' THEN %(now)s::timestamptz END
WHERE event_id = %(event_id)s AND channel = %(channel)s;

-- name: renew_lease
-- Keep a batch's lease while its pending rows go out, so no other worker takes it over meanwhile.
UPDATE sag_reminder_queue
SET lease_expires_at = clock_timestamp() + %(offset)s + make_interval(secs => %(lease_s)s)
WHERE id = ANY (%(ids)s) AND status = 'processing' AND lease_owner = %(worker)s
RETURNING id;

-- name: read_held_for_opening
-- The user's rows a rule's opening hours held that are due now, oldest first, with whether their channel is still wanted (current preferences, as read_deferred).
SELECT l.id, l.event_id, l.channel, l.title, l.message, l.sag_id, l.priority, s.title AS case_title,
       COALESCE((p.trigger_overrides -> r.trigger_type ->> l.channel)::boolean,
                (to_jsonb(p) ->> ch.switch)::boolean, TRUE) AS wanted
FROM sag_reminder_logs l
LEFT JOIN jsonb_to_recordset(%(channels)s::jsonb) AS ch (name text, switch text) ON ch.name = l.channel
LEFT JOIN sag_sager s ON s.id = l.sag_id
LEFT JOIN sag_reminders r ON r.id = l.rule_id
LEFT JOIN user_notification_preferences p ON p.user_id = l.user_id
WHERE l.user_id = %(user_id)s AND l.is_deferred AND l.held_for_opening AND l.deliver_after <= %(now)s
ORDER BY l.event_id, l.id;

-- name: release_held
-- Held rows go out: `sent` (a channel without a transport step: the update trigger pushes each
-- in-app row unless it went out in a summary) or `pending` (handed to the channel next).
UPDATE sag_reminder_logs
SET status = %(status)s::text, sent_at = CASE WHEN %(status)s::text = 'sent' THEN %(now)s::timestamptz END,
    in_summary = %(in_summary)s, error = NULL, updated_at = %(now)s
WHERE id = ANY (%(ids)s) AND status IN ('deferred', 'pending');

-- name: hold_again
-- Rows whose channel failed wait (deferred) for the opening event's retry.
UPDATE sag_reminder_logs SET status = 'deferred', updated_at = %(now)s
WHERE id = ANY (%(ids)s) AND status = 'pending';
