-- Deadline events for the given cases and rules: at deadline - offset (or now when that has
-- passed but the deadline has not), skipping firings already sent for the same deadline and
-- offset. The offset may be in working hours or days of a calendar (sag_rule_offset); an
-- instant beyond that calendar's stored years is not planned.
CREATE OR REPLACE FUNCTION sag_schedule_deadlines(p_case_ids INTEGER[], p_rule_id INTEGER)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, event_data, dedup_key, scheduled_for)
    SELECT r.id, s.id, 'rule', 'deadline',
           jsonb_build_object('deadline', s.deadline, 'offset_minutes', (r.trigger_config->>'offset_minutes')::int,
                              'config', r.trigger_config, 'fire_at', f.at),
           'deadline:' || r.id || ':' || s.id,
           greatest(f.at, now())
    FROM sag_reminders r
    JOIN sag_sager s ON (r.sag_id IS NULL OR r.sag_id = s.id)
    CROSS JOIN LATERAL (SELECT sag_rule_offset(r.trigger_config, s.deadline, -1) AS at) AS f
    WHERE r.active AND r.trigger_type = 'deadline' AND f.at IS NOT NULL
      AND (p_rule_id IS NULL OR r.id = p_rule_id)
      AND (p_case_ids IS NULL OR s.id = ANY (p_case_ids))
      AND s.closed_at IS NULL AND s.deadline IS NOT NULL AND s.deadline > now()
      AND NOT EXISTS (
          SELECT 1 FROM sag_reminder_queue d
          WHERE d.sag_id = s.id AND d.reminder_id = r.id AND d.trigger_type = 'deadline'
            AND NOT (d.kind = 'rule' AND d.trigger_type = 'status_change')
            AND d.status IN ('sent', 'processing', 'pending')
            AND (d.event_data->>'deadline')::timestamptz = s.deadline
            AND COALESCE(d.event_data->'config', jsonb_build_object('offset_minutes', d.event_data->'offset_minutes'))
                = r.trigger_config)
    ON CONFLICT (dedup_key) WHERE status = 'pending' AND dedup_key IS NOT NULL DO NOTHING;
    IF FOUND THEN
        PERFORM pg_notify('sag_reminder_queue', '');
    END IF;
END;
$$;
