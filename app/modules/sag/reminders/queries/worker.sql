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

-- name: reserve_rate
-- Count the batch's reminders against each recipient's hourly cap, record on each event whom it may push to, and return the destinations (JSON) for deliver_batch.
WITH d AS MATERIALIZED (
    -- Materialized: evaluated once per batch (inlined, a plan could re-run it, and with it the
    -- quiet-hours function, for every joined row: half a million calls for a batch of 500).
    -- Returned as JSON text, so deliver_batch writes exactly these rows without evaluating the
    -- destinations (preferences, quiet hours, opening hours) a second time.
    SELECT * FROM sag_reminder_destinations(%(ids)s::bigint[], %(escalate)s::boolean[], %(now)s, %(default_max)s,
                                           %(channels)s::jsonb)
), pairs AS (
    -- A reminder (event x user) that delivers now on any rate-limited channel counts once; an event
    -- a previous attempt already reserved for (a crashed worker's batch) is not counted again.
    SELECT DISTINCT d.user_id, d.event_id, d.cap
    FROM d JOIN sag_reminder_queue q ON q.id = d.event_id
    WHERE d.user_id IS NOT NULL AND d.rate_limited AND d.enabled AND d.quiet_until IS NULL
      AND NOT (q.event_data ? 'granted')
), ranked AS (
    SELECT user_id, event_id, cap,
           row_number() OVER (PARTITION BY user_id ORDER BY event_id) AS rank,
           count(*) OVER (PARTITION BY user_id) AS n
    FROM pairs
), totals AS (
    SELECT user_id, max(n)::int AS n FROM ranked GROUP BY user_id
), bumped AS (
    -- Atomic across workers: the row lock serialises concurrent batches for a user, and
    -- used - n is what earlier batches had counted when this one got the lock. Its own short
    -- transaction, so workers do not queue behind each other's log writes.
    INSERT INTO sag_reminder_rate AS rt (user_id, window_start, used)
    SELECT user_id, date_trunc('hour', %(now)s::timestamptz), n FROM totals ORDER BY user_id
    ON CONFLICT (user_id, window_start) DO UPDATE SET used = rt.used + EXCLUDED.used
    RETURNING rt.user_id, rt.used
), grants AS (
    SELECT r.event_id, jsonb_agg(r.user_id) FILTER (WHERE r.rank <= r.cap - (b.used - r.n)) AS users
    FROM ranked r JOIN bumped b ON b.user_id = r.user_id
    GROUP BY r.event_id
), marked AS (
    UPDATE sag_reminder_queue q
    SET event_data = q.event_data || jsonb_build_object('granted', COALESCE(g.users, '[]'::jsonb))
    FROM unnest(%(ids)s::bigint[]) AS e (id)
    LEFT JOIN grants g ON g.event_id = e.id
    WHERE q.id = e.id AND NOT (q.event_data ? 'granted')
    RETURNING q.id
)
-- The destinations as deliver_batch reads them: what is per row (the event's and the channel's columns it has).
SELECT (SELECT count(*) FROM marked)::int AS reserved,
       (SELECT json_agg(x)::text FROM (SELECT event_id, user_id, email, escalated, recipient, channel, enabled,
                                              quiet_until, held FROM d) AS x) AS destinations;

-- name: deliver_batch
-- Write the log rows of a whole batch (reserve_rate's destinations and rate-limit grants) and queue summaries and repeats.
WITH dest AS MATERIALIZED (
    -- sag_reminder_destinations' rows as reserve_rate returned them (the columns that differ per row).
    SELECT * FROM jsonb_to_recordset(COALESCE(%(destinations)s::jsonb, '[]'::jsonb))
        AS d (event_id BIGINT, user_id INTEGER, email TEXT, escalated BOOLEAN, recipient TEXT, channel TEXT,
              enabled BOOLEAN, quiet_until TIMESTAMPTZ, held BOOLEAN)
), chans AS (
    SELECT * FROM jsonb_to_recordset(%(channels)s::jsonb)
        AS c (name TEXT, rate_limited BOOLEAN, external BOOLEAN, pending BOOLEAN)
), texts AS MATERIALIZED (
    -- Each event's rendered title and message: [[event id, title, message], ...] (JSON: cheap to write in Python).
    SELECT (x->>0)::bigint AS event_id, x->>1 AS title, x->>2 AS message
    FROM jsonb_array_elements(%(texts)s::jsonb) AS x
), ev AS (
    SELECT q.id AS event_id, q.kind, q.reminder_id, q.sag_id, q.trigger_type, q.event_data,
           r.repeat_every_hours, COALESCE(r.priority, 'normal') AS priority
    FROM sag_reminder_queue q
    -- Mentions and watched-case news have no rule (and never repeat).
    LEFT JOIN sag_reminders r ON r.id = q.reminder_id
    WHERE q.id = ANY (%(ids)s::bigint[])
), cases AS MATERIALIZED (
    -- The references the log rows' foreign keys checked row by row, checked and locked once per
    -- batch (migration 015): a case or user deleted meanwhile gets no rows (its delete waits for
    -- this transaction otherwise, and then deletes them); a deleted rule leaves its rows without one.
    SELECT id FROM sag_sager WHERE id IN (SELECT sag_id FROM ev) ORDER BY id FOR KEY SHARE
), recipients AS MATERIALIZED (
    SELECT id, language FROM users WHERE id IN (SELECT user_id FROM dest) ORDER BY id FOR KEY SHARE
), rules AS MATERIALIZED (
    SELECT id FROM sag_reminders WHERE id IN (SELECT reminder_id FROM ev) ORDER BY id FOR KEY SHARE
), granted AS (
    -- Whom reserve_rate let each event push to (recorded on the event, so a retry agrees).
    SELECT ev.event_id, (g.value)::int AS user_id
    FROM ev CROSS JOIN LATERAL jsonb_array_elements_text(COALESCE(ev.event_data->'granted', '[]'::jsonb)) AS g
), decided AS (
    SELECT d.*, e.reminder_id, e.sag_id, e.priority, ch.external,
           CASE WHEN NOT d.enabled THEN 'suppressed'
                WHEN d.quiet_until IS NOT NULL THEN 'deferred'
                WHEN ch.rate_limited AND d.user_id IS NOT NULL AND g.user_id IS NULL THEN 'rate_limited'
                WHEN ch.pending THEN 'pending'
                ELSE 'sent' END AS status
    FROM dest d
    JOIN ev e ON e.event_id = d.event_id
    JOIN chans ch ON ch.name = d.channel
    LEFT JOIN granted g ON g.user_id = d.user_id AND g.event_id = d.event_id
), inserted AS (
    INSERT INTO sag_reminder_logs (event_id, rule_id, sag_id, user_id, email, recipient, channel, status, title,
                                   message, priority, escalated, deliver_after, held_for_opening, sent_at,
                                   created_at, updated_at)
    SELECT d.event_id, rl.id, d.sag_id, d.user_id, CASE WHEN d.external THEN d.email END, d.recipient,
           d.channel, d.status, CASE WHEN d.escalated THEN left(COALESCE(
               -- the prefix in the recipient's language (external addresses: the hub's)
               %(escalated_prefixes)s::jsonb ->> u.language,
               %(escalated_prefixes)s::jsonb ->> '') || ' ' || t.title, 500) ELSE t.title END, t.message, d.priority,
           d.escalated, d.quiet_until, d.held AND d.status = 'deferred',
           CASE WHEN d.status = 'sent' THEN %(now)s::timestamptz END, %(now)s, %(now)s
    FROM decided d
    JOIN texts tx ON tx.event_id = d.event_id
    LEFT JOIN recipients u ON u.id = d.user_id
    LEFT JOIN rules rl ON rl.id = d.reminder_id
    -- A hub-made text (a mention, watched-case news) in the recipient's language ({event: {language:
    -- [title, message]}}, '' = the hub's); a rule's own texts are its author's and stay as written.
    CROSS JOIN LATERAL (
        SELECT COALESCE(%(localized)s::jsonb #>> ARRAY[d.event_id::text, COALESCE(u.language, ''), '0'], tx.title) AS title,
               COALESCE(%(localized)s::jsonb #>> ARRAY[d.event_id::text, COALESCE(u.language, ''), '1'], tx.message)
                   AS message) t
    WHERE (d.user_id IS NULL OR u.id IS NOT NULL)
      AND (d.sag_id IS NULL OR d.sag_id IN (SELECT id FROM cases))
    ORDER BY d.event_id, d.recipient, d.channel
    ON CONFLICT ON CONSTRAINT sag_reminder_logs_delivery_key DO NOTHING
    RETURNING id, event_id, user_id, channel, status, deliver_after, held_for_opening
), held AS (
    -- At most one "n reminders held back" summary per user and window: it waits, pending, for the window's end.
    INSERT INTO sag_reminder_queue (kind, target_user_id, event_data, dedup_key, scheduled_for)
    SELECT 'held_back', user_id, jsonb_build_object('window_start', date_trunc('hour', %(now)s::timestamptz)),
           'held:' || user_id || ':' || extract(epoch FROM date_trunc('hour', %(now)s::timestamptz))::bigint,
           date_trunc('hour', %(now)s::timestamptz) + interval '1 hour'
    FROM (SELECT DISTINCT user_id FROM inserted WHERE status = 'rate_limited' AND user_id IS NOT NULL) AS lim
    ON CONFLICT (dedup_key) WHERE status = 'pending' AND dedup_key IS NOT NULL DO NOTHING
    RETURNING id
), digests AS (
    -- What quiet hours deferred goes out as one summary when they end.
    INSERT INTO sag_reminder_queue (kind, target_user_id, event_data, dedup_key, scheduled_for)
    SELECT 'digest', user_id, jsonb_build_object('quiet_until', deliver_after),
           'digest:' || user_id || ':' || extract(epoch FROM deliver_after)::bigint, deliver_after
    FROM (SELECT DISTINCT user_id, deliver_after FROM inserted
          WHERE status = 'deferred' AND user_id IS NOT NULL AND NOT held_for_opening) AS d
    ON CONFLICT (dedup_key) WHERE status = 'pending' AND dedup_key IS NOT NULL DO NOTHING
    RETURNING id
), openings AS (
    -- What a rule's opening hours held goes out when the calendar opens (opening_hours.py).
    INSERT INTO sag_reminder_queue (kind, target_user_id, event_data, dedup_key, scheduled_for)
    SELECT 'opening', user_id, jsonb_build_object('opens_at', deliver_after),
           'opening:' || user_id || ':' || extract(epoch FROM deliver_after)::bigint, deliver_after
    FROM (SELECT DISTINCT user_id, deliver_after FROM inserted
          WHERE status = 'deferred' AND user_id IS NOT NULL AND held_for_opening) AS o
    ON CONFLICT (dedup_key) WHERE status = 'pending' AND dedup_key IS NOT NULL DO NOTHING
    RETURNING id
), repeats AS (
    -- Re-remind every N hours while someone has not acknowledged (acknowledged users are left out above).
    INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, event_data, dedup_key, scheduled_for)
    SELECT ev.reminder_id, ev.sag_id, 'repeat', ev.trigger_type,
           jsonb_build_object('occurrence', COALESCE((ev.event_data->>'occurrence')::int, 1) + 1),
           'repeat:' || ev.reminder_id || ':' || ev.sag_id,
           %(now)s::timestamptz + make_interval(hours => ev.repeat_every_hours)
    FROM ev
    WHERE ev.repeat_every_hours IS NOT NULL AND ev.kind IN ('rule', 'repeat')
      AND EXISTS (SELECT 1 FROM inserted i WHERE i.event_id = ev.event_id AND i.user_id IS NOT NULL
                  AND i.status <> 'suppressed')
    ON CONFLICT (dedup_key) WHERE status = 'pending' AND dedup_key IS NOT NULL DO NOTHING
    RETURNING id
)
, finished AS (
    -- Events with no channel that delivers later (no `pending` rows) are done in this same transaction.
    UPDATE sag_reminder_queue
    SET status = 'sent', processed_at = %(now)s, lease_owner = NULL, lease_expires_at = NULL,
        last_error = NULL, updated_at = %(now)s
    WHERE id = ANY (%(finish_ids)s::bigint[]) AND status = 'processing'
    RETURNING id
)
SELECT (SELECT count(*) FROM inserted)::int AS written,
       (SELECT count(*) FROM inserted WHERE status IN ('sent', 'pending'))::int AS delivered,
       (SELECT count(*) FROM inserted WHERE status = 'rate_limited')::int AS rate_limited,
       (SELECT count(*) FROM held)::int AS held_summaries,
       (SELECT count(*) FROM digests)::int AS digests,
       (SELECT count(*) FROM openings)::int AS openings,
       (SELECT count(*) FROM repeats)::int AS repeats,
       (SELECT count(*) FROM finished)::int AS finished;

-- name: read_pending_rows
-- One channel's log rows of these events still to be handed to its transport, with the case details they show, the recipient's language and the kind (e-mail unsubscribe).
SELECT l.id, l.event_id, l.user_id, l.email, l.title, l.message, l.priority, l.escalated, l.sag_id, l.rule_id,
       s.title AS case_title, s.description, s.status, st.label AS status_label, st.label_da AS status_label_da, s.priority AS case_priority,
       s.deadline, c.name AS customer_name, COALESCE(NULLIF(au.full_name, ''), au.username) AS assignee_name,
       u.timezone, u.language, COALESCE(NULLIF(u.full_name, ''), u.username) AS user_name, q.trigger_type
-- (The ids joined as a set: `= ANY (500 constants)` made the planner estimate each of them, 9 ms a batch.)
FROM unnest(%(event_ids)s::bigint[]) AS k (event_id)
JOIN sag_reminder_logs l ON l.event_id = k.event_id
JOIN sag_sager s ON s.id = l.sag_id
LEFT JOIN sag_reminder_queue q ON q.id = l.event_id
LEFT JOIN sag_statuses st ON st.key = s.status
LEFT JOIN customers c ON c.id = s.customer_id
LEFT JOIN users au ON au.id = s.assigned_to
LEFT JOIN users u ON u.id = l.user_id
WHERE l.channel = %(channel)s AND l.status = 'pending'
  AND l.group_id IS NULL  -- rows of a grouped reminder go out in its one message (storms.py)
ORDER BY l.event_id, l.id;  -- an event's recipients side by side: one chunk shares its rendering

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
WHERE l.user_id = %(user_id)s AND l.status = 'rate_limited'
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
WHERE l.user_id = %(user_id)s AND l.status = 'deferred' AND l.deliver_after <= %(now)s
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
WHERE l.user_id = %(user_id)s AND l.status = 'deferred' AND l.held_for_opening AND l.deliver_after <= %(now)s
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
