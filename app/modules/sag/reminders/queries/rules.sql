-- name: insert_rule
-- Store a validated rule (the insert trigger queues its events).
INSERT INTO sag_reminders (name, sag_id, trigger_type, trigger_config, recipients, channels, title_template,
                           message_template, priority, active, repeat_every_hours, escalate_after, escalate_role,
                           created_by, next_run_at, deliver_in_opening_hours, opening_hours_calendar,
                           group_window_minutes)
VALUES (%(name)s, %(sag_id)s, %(trigger_type)s, %(trigger_config)s, %(recipients)s, %(channels)s,
        %(title_template)s, %(message_template)s, %(priority)s, %(active)s, %(repeat_every_hours)s,
        %(escalate_after)s, %(escalate_role)s, %(created_by)s, %(next_run_at)s, %(deliver_in_opening_hours)s,
        %(opening_hours_calendar)s, %(group_window_minutes)s)
RETURNING id;

-- name: update_rule
-- Replace a rule's editable fields (the update trigger reschedules when the trigger or state changed).
UPDATE sag_reminders
SET name = %(name)s, trigger_type = %(trigger_type)s, trigger_config = %(trigger_config)s,
    recipients = %(recipients)s, channels = %(channels)s, title_template = %(title_template)s,
    message_template = %(message_template)s, priority = %(priority)s, active = %(active)s,
    repeat_every_hours = %(repeat_every_hours)s, escalate_after = %(escalate_after)s,
    escalate_role = %(escalate_role)s, next_run_at = %(next_run_at)s,
    deliver_in_opening_hours = %(deliver_in_opening_hours)s, opening_hours_calendar = %(opening_hours_calendar)s,
    group_window_minutes = %(group_window_minutes)s
WHERE id = %(id)s
RETURNING id;

-- name: delete_rule
-- Delete a rule (its pending events are cancelled by trigger; logs keep their rows).
DELETE FROM sag_reminders WHERE id = %(id)s RETURNING id;

-- name: read_rules
-- Rules with filters, their case, creator and computed next run (earliest pending event).
SELECT r.id, r.name, r.sag_id, s.title AS case_title, r.trigger_type, r.trigger_config, r.recipients, r.channels,
       r.title_template, r.message_template, r.priority, r.active, r.repeat_every_hours, r.escalate_after,
       r.escalate_role, r.deliver_in_opening_hours, r.opening_hours_calendar, r.group_window_minutes,
       r.created_by, COALESCE(NULLIF(cu.full_name, ''), cu.username) AS created_by_name,
       r.last_run_at, r.created_at, r.updated_at,
       (SELECT min(q.scheduled_for) FROM sag_reminder_queue q
        WHERE q.reminder_id = r.id AND q.status = 'pending'
          AND NOT (q.kind = 'rule' AND q.trigger_type = 'status_change')) AS next_run_at,
       count(*) OVER () AS total
FROM sag_reminders r
LEFT JOIN sag_sager s ON s.id = r.sag_id
LEFT JOIN users cu ON cu.id = r.created_by
WHERE (%(id)s::int IS NULL OR r.id = %(id)s)
  AND (%(sag_id)s::int IS NULL OR r.sag_id = %(sag_id)s)
  AND (NOT %(global_only)s OR r.sag_id IS NULL)
  AND (NOT %(cases_only)s OR r.sag_id IS NOT NULL)
  AND (%(trigger_type)s::text IS NULL OR r.trigger_type = %(trigger_type)s)
  AND (%(active)s::boolean IS NULL OR r.active = %(active)s)
ORDER BY r.sag_id NULLS FIRST, r.id
LIMIT %(limit)s OFFSET %(offset)s;

-- name: read_rule_row
-- The stored row of one rule (for merging a patch).
SELECT * FROM sag_reminders WHERE id = %(id)s;

-- name: read_case_for_rules
-- Whether a case exists (rules of a case).
SELECT id, title, closed_at FROM sag_sager WHERE id = %(id)s;
