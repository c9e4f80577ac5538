-- The `sla` trigger: plan each threshold of each active sla rule for the given cases (NULL =
-- every open case in the rule's scope) and rules (NULL = all), from the cases' SLA clocks.
--
-- A threshold of `percent` % of a target fires when that share of the target's working
-- minutes is used, on the clock's calendar: response = created + percent % of the response
-- target (that clock never pauses); resolution = created + percent % of the resolution target
-- + the working minutes it stood still. 100 % is the due time (the breach).
-- Nothing fires for a met target (the response given; the case closed), a paused resolution
-- clock, a case without a policy or calendar, or an instant beyond the stored calendar years:
-- such a threshold's pending event is cancelled, and it is armed again when that changes.
-- Each threshold fires once per rule, case and target (sag_sla_thresholds): a pending event
-- is moved in place; a new one is queued only while the threshold's earlier event was
-- cancelled or skipped, never once it was claimed or sent. An instant already past fires at
-- once, except that a threshold never armed before does not announce a target breached before
-- the rule (or the case's policy) existed.
-- The thresholds of the active sla rules `p_rule_id` (NULL = all) for the cases `p_case_ids`
-- (NULL = every open case in the rule's scope): why nothing fires (NULL = it fires), the
-- target's due time and the instant the threshold is reached.
CREATE OR REPLACE FUNCTION sag_sla_threshold_plans(p_case_ids INTEGER[], p_rule_id INTEGER)
RETURNS TABLE (rule_id INTEGER, case_id INTEGER, target TEXT, percent INTEGER, reason TEXT, due_at TIMESTAMPTZ,
               fire_at TIMESTAMPTZ)
LANGUAGE sql STABLE AS $$
    SELECT r.id AS rule_id, s.id AS case_id, t.target, t.percent,
           CASE WHEN s.closed_at IS NOT NULL THEN 'target met'
                WHEN k.calendar_id IS NULL OR p.id IS NULL THEN 'no SLA'
                WHEN t.target = 'response' AND k.first_response_at IS NOT NULL THEN 'target met'
                WHEN t.target = 'resolution' AND k.paused_since IS NOT NULL THEN 'clock paused'
           END AS reason,
           CASE t.target WHEN 'response' THEN k.response_due_at ELSE k.resolution_due_at END AS due_at,
           -- sag_add_working_minutes(k.calendar_id, s.created_at, m.minutes) written out (a
           -- call per row, never inlined, cost more than its two lookups: a new rule plans
           -- every open case).
           CASE WHEN k.calendar_id IS NULL THEN NULL
                WHEN m.minutes <= 0 THEN s.created_at
                ELSE (SELECT sp.start_at + make_interval(secs => m.secs - sp.open_before)
                      FROM sag_calendar_spans sp
                      WHERE sp.calendar_id = k.calendar_id AND sp.open_after >= ceil(m.secs)::bigint
                      ORDER BY sp.open_after LIMIT 1)
           END AS fire_at
    FROM sag_reminders r
    CROSS JOIN LATERAL (
        SELECT r.trigger_config->>'target' AS target, (x.value)::int AS percent
        FROM jsonb_array_elements_text(r.trigger_config->'thresholds') AS x (value)
    ) AS t
    JOIN sag_sager s ON (r.sag_id IS NULL OR s.id = r.sag_id)
    LEFT JOIN sag_sla_clocks k ON k.sag_id = s.id
    LEFT JOIN sag_sla_policies p ON p.id = k.policy_id
    -- The threshold's working minutes after the creation, and the open-time total it reaches.
    CROSS JOIN LATERAL (
        SELECT x.minutes,
               COALESCE((SELECT sp.open_before + greatest(0, extract(epoch FROM least(s.created_at, sp.end_at)
                                                                            - sp.start_at))
                         FROM sag_calendar_spans sp
                         WHERE sp.calendar_id = k.calendar_id AND sp.start_at <= s.created_at
                         ORDER BY sp.start_at DESC LIMIT 1), 0)::double precision + x.minutes * 60 AS secs
        FROM (SELECT (CASE t.target WHEN 'response' THEN p.response_minutes * t.percent / 100.0
                                    ELSE p.resolution_minutes * t.percent / 100.0 + k.paused_minutes
                      END)::double precision AS minutes) AS x
    ) AS m
    WHERE r.active AND r.trigger_type = 'sla'
      AND (p_rule_id IS NULL OR r.id = p_rule_id)
      AND (CASE WHEN p_case_ids IS NULL THEN s.closed_at IS NULL ELSE s.id = ANY (p_case_ids) END)
$$;

CREATE OR REPLACE FUNCTION sag_schedule_sla(p_case_ids INTEGER[], p_rule_id INTEGER)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    w RECORD;
    cur RECORD;
    ev BIGINT;
    key TEXT;
    queued BOOLEAN := FALSE;
BEGIN
    -- A rule planned for the first time (just created, or now of type sla): it has no threshold
    -- to move or cancel, so its thresholds and events are written in one statement rather than
    -- row by row (a new rule plans every open case: tens of thousands at a million cases). The
    -- rows are those the loop below writes: a threshold per armable (case, target, percent),
    -- with its event unless the target was breached already.
    IF p_rule_id IS NOT NULL AND p_case_ids IS NULL
       AND NOT EXISTS (SELECT 1 FROM sag_sla_thresholds th WHERE th.reminder_id = p_rule_id) THEN
        WITH n AS MATERIALIZED (
            SELECT x.rule_id, x.case_id, x.target, x.percent, x.due_at, x.fire_at,
                   'sla:' || x.rule_id || ':' || x.case_id || ':' || x.target || ':' || x.percent AS key,
                   NOT COALESCE(x.due_at <= now(), FALSE) AS armed
            FROM sag_sla_threshold_plans(NULL, p_rule_id) AS x
            WHERE x.reason IS NULL AND x.fire_at IS NOT NULL
        ), events AS (
            INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, event_data, dedup_key,
                                            scheduled_for)
            SELECT n.rule_id, n.case_id, 'rule', 'sla',
                   jsonb_build_object('target', n.target, 'percent', n.percent, 'fire_at', n.fire_at,
                                      'due_at', n.due_at),
                   n.key, greatest(n.fire_at, now())
            FROM n WHERE n.armed
            ORDER BY n.case_id, n.target, n.percent
            ON CONFLICT (dedup_key) WHERE status = 'pending' AND dedup_key IS NOT NULL DO NOTHING
            RETURNING id, dedup_key
        ), thresholds AS (
            INSERT INTO sag_sla_thresholds (reminder_id, sag_id, target, percent, event_id, fire_at)
            SELECT n.rule_id, n.case_id, n.target, n.percent,
                   -- An event pending under the same key already (the statement's snapshot): that one.
                   CASE WHEN n.armed THEN COALESCE(e.id, (SELECT q.id FROM sag_reminder_queue q
                                                          WHERE q.dedup_key = n.key AND q.status = 'pending')) END,
                   CASE WHEN n.armed THEN n.fire_at END
            FROM n LEFT JOIN events e ON e.dedup_key = n.key
            ORDER BY n.case_id, n.target, n.percent
        )
        SELECT COALESCE(bool_or(n.armed), FALSE) INTO queued FROM n;
        IF queued THEN
            PERFORM pg_notify('sag_reminder_queue', '');
        END IF;
        RETURN;
    END IF;
    FOR w IN
        SELECT * FROM sag_sla_threshold_plans(p_case_ids, p_rule_id) AS x
        ORDER BY x.rule_id, x.case_id, x.target, x.percent
    LOOP
        key := 'sla:' || w.rule_id || ':' || w.case_id || ':' || w.target || ':' || w.percent;
        IF w.reason IS NOT NULL OR w.fire_at IS NULL THEN
            UPDATE sag_reminder_queue q
            SET status = 'cancelled', last_error = COALESCE(w.reason, 'beyond the calendar''s stored years'),
                processed_at = now(), updated_at = now()
            FROM sag_sla_thresholds th
            WHERE th.reminder_id = w.rule_id AND th.sag_id = w.case_id AND th.target = w.target
              AND th.percent = w.percent AND q.id = th.event_id AND q.status = 'pending';
            CONTINUE;
        END IF;
        -- The row lock serialises every writer planning this threshold.
        INSERT INTO sag_sla_thresholds (reminder_id, sag_id, target, percent)
        VALUES (w.rule_id, w.case_id, w.target, w.percent) ON CONFLICT DO NOTHING;
        SELECT th.event_id, q.status INTO cur
        FROM sag_sla_thresholds th LEFT JOIN sag_reminder_queue q ON q.id = th.event_id
        WHERE th.reminder_id = w.rule_id AND th.sag_id = w.case_id AND th.target = w.target
          AND th.percent = w.percent
        FOR UPDATE OF th;
        IF cur.status = 'pending' THEN
            UPDATE sag_reminder_queue
            SET scheduled_for = greatest(w.fire_at, now()), updated_at = now(),
                event_data = event_data || jsonb_build_object('fire_at', w.fire_at, 'due_at', w.due_at)
            WHERE id = cur.event_id AND status = 'pending';
            -- Not found: a worker claimed it meanwhile, so it fires (once) as planned before.
        ELSIF cur.event_id IS NOT NULL AND cur.status IS DISTINCT FROM 'cancelled'
              AND cur.status IS DISTINCT FROM 'skipped' THEN
            CONTINUE;  -- claimed, sent or failed: this threshold has had its firing
        ELSIF cur.event_id IS NULL AND w.due_at <= now() THEN
            CONTINUE;  -- never armed, and the target was breached already
        ELSE
            INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, event_data, dedup_key,
                                            scheduled_for)
            VALUES (w.rule_id, w.case_id, 'rule', 'sla',
                    jsonb_build_object('target', w.target, 'percent', w.percent, 'fire_at', w.fire_at,
                                       'due_at', w.due_at),
                    key, greatest(w.fire_at, now()))
            ON CONFLICT (dedup_key) WHERE status = 'pending' AND dedup_key IS NOT NULL DO NOTHING
            RETURNING id INTO ev;
            IF ev IS NULL THEN
                SELECT id INTO ev FROM sag_reminder_queue WHERE dedup_key = key AND status = 'pending';
            END IF;
            queued := TRUE;
        END IF;
        UPDATE sag_sla_thresholds
        SET event_id = COALESCE(ev, event_id), fire_at = w.fire_at, updated_at = now()
        WHERE reminder_id = w.rule_id AND sag_id = w.case_id AND target = w.target AND percent = w.percent;
        ev := NULL;
    END LOOP;
    IF queued THEN
        PERFORM pg_notify('sag_reminder_queue', '');
    END IF;
END;
$$;

-- Trigger on sag_sla_clocks (a clock that moved): re-plan that case's sla reminders, when any
-- active sla rule exists (one index probe otherwise).
CREATE OR REPLACE FUNCTION sag_sla_clock_reminders() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM sag_reminders WHERE active AND trigger_type = 'sla') THEN
        PERFORM sag_schedule_sla(ARRAY[NEW.sag_id], NULL);
    END IF;
    RETURN NULL;
END;
$$;
