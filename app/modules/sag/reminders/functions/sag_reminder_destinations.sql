-- Where a batch of rendered firings goes: one row per recipient and channel, resolved now,
-- leaving out users who acknowledged the rule for the case since its last status change, with
-- each channel's preference and quiet-hours end. Rows a retried event already wrote are not
-- filtered here (an anti-join against the whole log table per batch); the log insert skips them
-- on its unique key, and the rate reservation then counts them twice, which only errs on the
-- side of fewer pushes.
-- The firings come as parallel arrays (event ids, escalate flags); their rendered texts do not
-- pass through here (sag_reminder_deliver gets them). The worker calls it once per batch
-- (sag_reminder_reserve, which hands the rows to sag_reminder_deliver). Set-based throughout (issue 13): the
-- recipients of the whole batch in one call, each user's preferences and quiet-hours end once.
-- p_channels: the registered channels, [{"name", "switch", "quiet_hours", "rate_limited",
-- "external", "pending", "kind_defaults", "per_firing"}] (reminders/channels/__init__.py, sql_param). "switch" names the
-- column of user_notification_preferences that turns the channel on or off. A rule's channel
-- that is not registered (its module is off) yields no rows. A channel with "per_firing" (a
-- chat or webhook destination) gets one row per event instead of one per recipient: no user,
-- recipient 'firing', never switched off, deferred or rate-limited by a user's preferences.
-- A rule that delivers only within opening hours (migration 010): outside its calendar's
-- opening hours a user's rows on every channel are held until the calendar opens
-- (`quiet_until` is then the later of that and the channel's quiet-hours end; `held` says so).
-- Earlier signatures (with titles and messages, before channels were plug-ins, before `held`):
-- replaced, not overloaded.
DROP FUNCTION IF EXISTS sag_reminder_destinations(BIGINT[], TEXT[], TEXT[], BOOLEAN[], TIMESTAMPTZ, INTEGER);
DROP FUNCTION IF EXISTS sag_reminder_destinations(BIGINT[], TEXT[], TEXT[], BOOLEAN[], TIMESTAMPTZ, INTEGER, JSONB);
CREATE OR REPLACE FUNCTION sag_reminder_destinations(
    p_ids BIGINT[], p_escalate BOOLEAN[], p_now TIMESTAMPTZ, p_default_max INTEGER, p_channels JSONB)
RETURNS TABLE (event_id BIGINT, user_id INTEGER, email TEXT, escalated BOOLEAN, recipient TEXT, channel TEXT,
               priority TEXT, reminder_id INTEGER, sag_id INTEGER, enabled BOOLEAN,
               quiet_until TIMESTAMPTZ, cap INTEGER, rate_limited BOOLEAN, external BOOLEAN, pending BOOLEAN,
               held BOOLEAN)
LANGUAGE sql STABLE AS $$
    WITH chans AS (
        SELECT * FROM jsonb_to_recordset(p_channels)
            AS c (name TEXT, switch TEXT, quiet_hours BOOLEAN, rate_limited BOOLEAN, external BOOLEAN,
                  pending BOOLEAN, kind_defaults JSONB, per_firing BOOLEAN)
    ), items AS MATERIALIZED (
        SELECT it.event_id, it.escalate, q.reminder_id, q.sag_id, q.target_user_id, q.trigger_type, q.event_data
        FROM unnest(p_ids, p_escalate) AS it (event_id, escalate)
        JOIN sag_reminder_queue q ON q.id = it.event_id
    ), rules AS MATERIALIZED (
        -- Once per rule, not per firing: a batch is mostly a few rules' firings.
        SELECT r.id, r.recipients, r.channels, r.priority, r.escalate_role,
               CASE WHEN r.deliver_in_opening_hours
                    THEN sag_closed_until(sag_calendar_named(r.opening_hours_calendar), p_now) END AS held_until
        FROM sag_reminders r WHERE r.id IN (SELECT reminder_id FROM items)
    ), ev AS MATERIALIZED (
        -- An event without a rule (a mention, a watched case) names its users in event_data
        -- ("recipients": {"users": [...]}) and goes out on every registered channel.
        SELECT it.event_id, it.escalate, it.reminder_id, it.sag_id, it.target_user_id, it.trigger_type,
               COALESCE(r.recipients, it.event_data->'recipients', '{}'::jsonb) AS recipients,
               -- (never a chat or webhook destination: news for one user is not for a team channel)
               COALESCE(r.channels, ARRAY(SELECT c.name FROM chans c WHERE NOT COALESCE(c.per_firing, FALSE)))
                   AS channels,
               COALESCE(r.priority, 'normal') AS priority, r.escalate_role, s.assigned_to, s.created_by,
               r.held_until
        FROM items it
        LEFT JOIN rules r ON r.id = it.reminder_id
        JOIN sag_sager s ON s.id = it.sag_id
        WHERE r.id IS NOT NULL OR it.reminder_id IS NULL
    ), rcp AS MATERIALIZED (
        SELECT ev.event_id, x.user_id, x.email, x.escalated,
               CASE WHEN x.user_id IS NULL THEN 'e:' || x.email ELSE 'u:' || x.user_id END AS recipient,
               ev.priority, ev.reminder_id, ev.sag_id, ev.trigger_type, ev.channels,
               CASE WHEN x.user_id IS NOT NULL THEN ev.held_until END AS held_until
        FROM (SELECT array_agg(event_id) AS k, array_agg(recipients) AS r, array_agg(assigned_to) AS a,
                     array_agg(created_by) AS c, array_agg(target_user_id) AS t,
                     array_agg(CASE WHEN escalate THEN escalate_role END) AS e, array_agg(sag_id) AS s
              FROM ev) AS b
        CROSS JOIN LATERAL sag_reminder_recipients_of(b.k, b.r, b.a, b.c, b.t, b.e, b.s) AS x
        JOIN ev ON ev.event_id = x.key
        -- Users who acknowledged the rule for the case since its last status change are left out.
        WHERE x.user_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM sag_reminder_logs a
            WHERE a.rule_id = ev.reminder_id AND a.sag_id = ev.sag_id AND a.user_id = x.user_id
              AND a.acknowledged_at IS NOT NULL
              AND a.acknowledged_at > COALESCE((SELECT max(h.changed_at) FROM sag_status_history h
                                                WHERE h.sag_id = ev.sag_id), '-infinity'::timestamptz))
    ), who AS MATERIALIZED (
        -- Each recipient's preferences and quiet-hours end, once per user and batch.
        SELECT u.id, u.timezone, p.trigger_overrides, p.in_app_enabled, p.email_enabled, p.max_per_hour,
               p.quiet_hours_start, p.quiet_hours_end, to_jsonb(p) AS prefs,
               sag_quiet_until(u.timezone, p.quiet_hours_start, p.quiet_hours_end, p_now) AS quiet_now
        FROM users u LEFT JOIN user_notification_preferences p ON p.user_id = u.id
        WHERE u.id IN (SELECT rcp.user_id FROM rcp)
    )
    SELECT rcp.event_id, rcp.user_id, rcp.email, rcp.escalated, rcp.recipient, ch.name,
           rcp.priority, rcp.reminder_id, rcp.sag_id,
           CASE WHEN rcp.user_id IS NULL THEN TRUE
                ELSE COALESCE((w.trigger_overrides->rcp.trigger_type->>ch.name)::boolean,
                              -- A kind that is off by default on this channel (module.json
                              -- "defaults") stays off until the user overrides it.
                              CASE WHEN (ch.kind_defaults->>rcp.trigger_type)::boolean IS FALSE THEN FALSE END,
                              -- The core row's two switches read directly; any other column
                              -- through the row as JSON.
                              CASE ch.switch WHEN 'in_app_enabled' THEN w.in_app_enabled
                                             WHEN 'email_enabled' THEN w.email_enabled
                                             ELSE (w.prefs->>ch.switch)::boolean END,
                              TRUE)
           END,
           -- greatest() ignores NULLs: either wait, or both.
           greatest(rcp.held_until,
                    CASE WHEN ch.quiet_hours AND rcp.user_id IS NOT NULL
                         THEN CASE WHEN rcp.held_until IS NULL THEN w.quiet_now
                                   ELSE sag_quiet_until(w.timezone, w.quiet_hours_start, w.quiet_hours_end,
                                                        rcp.held_until) END END),
           COALESCE(w.max_per_hour, p_default_max), ch.rate_limited, ch.external, ch.pending,
           rcp.held_until IS NOT NULL
    FROM rcp
    CROSS JOIN LATERAL unnest(rcp.channels) AS rc (name)
    JOIN chans ch ON ch.name = rc.name AND NOT COALESCE(ch.per_firing, FALSE)
    LEFT JOIN who w ON w.id = rcp.user_id
    WHERE rcp.user_id IS NOT NULL OR ch.external
    UNION ALL
    SELECT ev.event_id, NULL::integer, NULL::text, FALSE, 'firing', ch.name, ev.priority,
           ev.reminder_id, ev.sag_id, TRUE, NULL::timestamptz, NULL::integer, FALSE, FALSE, ch.pending, FALSE
    FROM ev
    CROSS JOIN LATERAL unnest(ev.channels) AS rc (name)
    JOIN chans ch ON ch.name = rc.name AND ch.per_firing
$$;
