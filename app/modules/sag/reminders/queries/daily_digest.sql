-- name: due_users
-- Users with the daily digest on whose local send time has passed today and whose digest of today is not done or held by a worker.
SELECT d.user_id, u.timezone, d.include_unassigned,
       (%(now)s::timestamptz AT TIME ZONE u.timezone)::date AS local_date
FROM sag_digest_settings d
JOIN users u ON u.id = d.user_id AND u.active
WHERE d.enabled
  AND (%(now)s::timestamptz AT TIME ZONE u.timezone)::time >= d.send_at
  AND NOT EXISTS (
      SELECT 1 FROM sag_digest_runs r
      WHERE r.user_id = d.user_id AND r.local_date = (%(now)s::timestamptz AT TIME ZONE u.timezone)::date
        AND (r.status IN ('sent', 'empty', 'skipped', 'gave_up')
             OR (r.status = 'sending' AND r.lease_expires_at > %(now)s)
             OR (r.status = 'failed' AND r.next_attempt_at > %(now)s)))
ORDER BY d.user_id;

-- name: skip_day
-- Not a working day: record it, so the day is decided once.
INSERT INTO sag_digest_runs (user_id, local_date, status, attempts, created_at, updated_at)
VALUES (%(user_id)s, %(local_date)s, 'skipped', 0, %(now)s, %(now)s)
ON CONFLICT ON CONSTRAINT sag_digest_runs_once DO NOTHING;

-- name: claim_run
-- Take the user's digest of this local date: a new row, a failed one due for its retry, or one whose worker died. No row back = another worker has it.
INSERT INTO sag_digest_runs AS r (user_id, local_date, status, attempts, lease_owner, lease_expires_at,
                                  created_at, updated_at)
VALUES (%(user_id)s, %(local_date)s, 'sending', 1, %(worker)s,
        %(now)s::timestamptz + make_interval(secs => %(lease_s)s), %(now)s, %(now)s)
ON CONFLICT ON CONSTRAINT sag_digest_runs_once DO UPDATE
SET status = 'sending', attempts = r.attempts + 1, lease_owner = EXCLUDED.lease_owner,
    lease_expires_at = EXCLUDED.lease_expires_at, updated_at = EXCLUDED.updated_at
WHERE (r.status = 'failed' AND r.next_attempt_at <= %(now)s)
   OR (r.status = 'sending' AND r.lease_expires_at <= %(now)s)
RETURNING r.id, r.attempts;

-- name: finish_run
-- The digest went out (sent) or there was nothing to report (empty).
UPDATE sag_digest_runs
SET status = %(status)s::text, item_count = %(items)s, last_error = NULL, lease_owner = NULL, lease_expires_at = NULL,
    sent_at = CASE WHEN %(status)s::text = 'sent' THEN %(now)s::timestamptz END, updated_at = %(now)s
WHERE id = %(id)s;

-- name: fail_run
-- Sending failed: retry after the back-off, or give up after the last attempt.
UPDATE sag_digest_runs
SET status = CASE WHEN attempts >= %(max_attempts)s THEN 'gave_up' ELSE 'failed' END,
    last_error = %(error)s, lease_owner = NULL, lease_expires_at = NULL,
    next_attempt_at = %(now)s::timestamptz + make_interval(
        secs => least(%(max_backoff_s)s, %(base_backoff_s)s * power(2, attempts - 1))),
    updated_at = %(now)s
WHERE id = %(id)s
RETURNING status;

-- name: read_recipient
-- The digest's recipient, with the language it is written in.
SELECT id, email, timezone, language, COALESCE(NULLIF(full_name, ''), username) AS user_name FROM users WHERE id = %(user_id)s;

-- name: my_cases_due
-- The user's open cases due before the end of their local day: overdue (deadline passed) and due today.
SELECT s.id, s.title, s.deadline, s.priority, st.label AS status_label, st.label_da AS status_label_da, c.name AS customer_name,
       s.deadline < %(now)s AS overdue
FROM sag_sager s
LEFT JOIN sag_statuses st ON st.key = s.status
LEFT JOIN customers c ON c.id = s.customer_id
WHERE s.assigned_to = %(user_id)s AND s.closed_at IS NULL AND s.deadline < %(day_end)s
ORDER BY s.deadline, s.id;

-- name: unassigned_cases
-- Open cases nobody is assigned to, oldest first (one more than shown, to say "and more").
SELECT s.id, s.title, s.deadline, s.priority, st.label AS status_label, st.label_da AS status_label_da, c.name AS customer_name,
       count(*) OVER () AS total
FROM sag_sager s
LEFT JOIN sag_statuses st ON st.key = s.status
LEFT JOIN customers c ON c.id = s.customer_id
WHERE s.assigned_to IS NULL AND s.closed_at IS NULL
ORDER BY s.created_at, s.id
LIMIT %(limit)s;

-- name: unread_reminders
-- The user's delivered in-app reminders (mentions included) not yet acknowledged, dismissed, opened or snoozed; a grouped reminder is listed by its cases.
SELECT l.id, l.sag_id, l.title, l.created_at, s.title AS case_title, count(*) OVER () AS total
FROM sag_reminder_logs l
LEFT JOIN sag_sager s ON s.id = l.sag_id
WHERE l.user_id = %(user_id)s AND l.channel = 'in_app' AND l.status = 'sent'
  AND l.acknowledged_at IS NULL AND l.dismissed_at IS NULL AND l.clicked_at IS NULL
  AND (l.snoozed_until IS NULL OR l.snoozed_until <= %(now)s)
  AND NOT EXISTS (SELECT 1 FROM sag_reminder_logs m WHERE m.group_id = l.id)
ORDER BY l.id DESC
LIMIT %(limit)s;

-- name: read_settings
-- The user's daily digest choice (defaults when never saved).
SELECT COALESCE(d.enabled, FALSE) AS enabled, COALESCE(d.send_at, '07:30'::time) AS send_at,
       COALESCE(d.include_unassigned, FALSE) AS include_unassigned
FROM users u LEFT JOIN sag_digest_settings d ON d.user_id = u.id
WHERE u.id = %(user_id)s;

-- name: save_settings
-- Store the user's daily digest choice.
INSERT INTO sag_digest_settings (user_id, enabled, send_at, include_unassigned)
VALUES (%(user_id)s, %(enabled)s, %(send_at)s, %(include_unassigned)s)
ON CONFLICT (user_id) DO UPDATE
SET enabled = EXCLUDED.enabled, send_at = EXCLUDED.send_at, include_unassigned = EXCLUDED.include_unassigned;
