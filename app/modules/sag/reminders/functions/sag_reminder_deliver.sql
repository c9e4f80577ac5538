-- The second half of a batch's log write: the log rows of sag_reminder_reserve's destinations
-- and grants, and the summaries and repeats they call for. Returns the rows written and those
-- delivered (sent, or pending for a channel's transport).
-- p_texts: each event's rendered title and message, [[event id, title, message], ...];
-- p_escalated_prefixes: {language: prefix, "": the hub's}; p_localized: a hub-made text per
-- recipient language, {event id: {language: [title, message]}}; p_finish_ids: the events with no
-- channel that delivers later, finished here.
-- References: the batch's events, cases, users and rules are locked FOR KEY SHARE here, once,
-- and rows are written only for those still there (a deleted rule leaves its rows without one),
-- which is what the insert trigger sag_reminder_logs_check_references checks for every other
-- writer; so for this one INSERT the trigger is told (`sag.references_locked`, transaction-local,
-- cleared again at once) that it has nothing to do.
CREATE OR REPLACE FUNCTION sag_reminder_deliver(
    p_ids BIGINT[], p_now TIMESTAMPTZ, p_destinations sag_reminder_destination[], p_channels JSONB, p_texts JSONB,
    p_escalated_prefixes JSONB, p_localized JSONB, p_finish_ids BIGINT[])
RETURNS TABLE (written INTEGER, delivered INTEGER) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('sag.references_locked', 'on', true);
    RETURN QUERY
    WITH dest AS MATERIALIZED (
        SELECT * FROM unnest(p_destinations)
    ), chans AS (
        SELECT * FROM jsonb_to_recordset(p_channels) AS c (name TEXT, rate_limited BOOLEAN, external BOOLEAN,
                                                          pending BOOLEAN)
    ), texts AS MATERIALIZED (
        SELECT (x->>0)::bigint AS event_id, x->>1 AS title, x->>2 AS message
        FROM jsonb_array_elements(p_texts) AS x
    ), ev AS MATERIALIZED (
        -- The batch's events with their rule, the events locked FOR KEY SHARE in id order: an event
        -- deleted meanwhile is not returned (and gets no rows, no repeat). One scan both reads and
        -- locks them (a separate locking CTE was nodes and a join more for every batch).
        SELECT q.id AS event_id, q.kind, q.reminder_id, q.sag_id, q.trigger_type, q.event_data,
               r.repeat_every_hours, COALESCE(r.priority, 'normal') AS priority
        FROM sag_reminder_queue q
        -- Mentions and watched-case news have no rule (and never repeat).
        LEFT JOIN sag_reminders r ON r.id = q.reminder_id
        WHERE q.id = ANY (p_ids)
        ORDER BY q.id
        FOR KEY SHARE OF q
    ), cases AS MATERIALIZED (
        SELECT s.id FROM sag_sager s WHERE s.id IN (SELECT ev.sag_id FROM ev) ORDER BY s.id FOR KEY SHARE
    ), recipients AS MATERIALIZED (
        SELECT u.id, u.language FROM users u WHERE u.id IN (SELECT dest.user_id FROM dest) ORDER BY u.id FOR KEY SHARE
    ), rules AS MATERIALIZED (
        SELECT r.id FROM sag_reminders r WHERE r.id IN (SELECT ev.reminder_id FROM ev) ORDER BY r.id FOR KEY SHARE
    ), decided AS (
        SELECT d.*, e.reminder_id, e.sag_id, e.priority, ch.external,
               CASE WHEN NOT d.enabled THEN 'suppressed'
                    WHEN d.quiet_until IS NOT NULL THEN 'deferred'
                    -- Whom the reservation let the event push to (recorded on the event, so a retry
                    -- agrees): a JSON array of user ids, `@>` a number tests membership.
                    WHEN ch.rate_limited AND d.user_id IS NOT NULL
                         AND NOT COALESCE(e.event_data->'granted' @> to_jsonb(d.user_id), FALSE) THEN 'rate_limited'
                    WHEN ch.pending THEN 'pending'
                    ELSE 'sent' END AS status
        FROM dest d
        JOIN ev e ON e.event_id = d.event_id
        JOIN chans ch ON ch.name = d.channel
    ), to_write AS NOT MATERIALIZED (
        -- Inlined into both inserts (not materialized: a batch's rows are nearly always all fresh, and
        -- the other insert's filter then leaves its copy of the joins nothing to do).
        SELECT d.event_id, rl.id AS rule_id, d.sag_id, d.user_id, CASE WHEN d.external THEN d.email END AS email,
               d.recipient, d.channel, d.status, CASE WHEN d.escalated THEN left(COALESCE(
                   -- the prefix in the recipient's language (external addresses: the hub's)
                   p_escalated_prefixes ->> u.language, p_escalated_prefixes ->> '') || ' ' || t.title, 500)
                   ELSE t.title END AS title, t.message, d.priority,
               d.escalated, d.quiet_until, d.held AND d.status = 'deferred' AS held_for_opening,
               CASE WHEN d.status = 'sent' THEN p_now END AS sent_at,
               COALESCE(d.fresh, FALSE) AS fresh
        FROM decided d
        JOIN texts tx ON tx.event_id = d.event_id
        LEFT JOIN recipients u ON u.id = d.user_id
        LEFT JOIN rules rl ON rl.id = d.reminder_id
        -- A hub-made text (a mention, watched-case news) in the recipient's language ('' = the
        -- hub's); a rule's own texts are its author's and stay as written.
        CROSS JOIN LATERAL (
            SELECT COALESCE(p_localized #>> ARRAY[d.event_id::text, COALESCE(u.language, ''), '0'], tx.title) AS title,
                   COALESCE(p_localized #>> ARRAY[d.event_id::text, COALESCE(u.language, ''), '1'], tx.message)
                       AS message) t
        WHERE (d.user_id IS NULL OR u.id IS NOT NULL)
          AND (d.sag_id IS NULL OR d.sag_id IN (SELECT cases.id FROM cases))
    ), inserted_fresh AS (
        -- The rows of events reserved for the first time (`fresh`): none can exist yet, so a plain
        -- INSERT (ON CONFLICT's speculative insertion cost about a sixth of each row). Should one
        -- exist after all, the unique key refuses it and the batch goes back to the queue.
        INSERT INTO sag_reminder_logs AS l (event_id, rule_id, sag_id, user_id, email, recipient, channel, status,
                                            title, message, priority, escalated, deliver_after, held_for_opening,
                                            sent_at, created_at, updated_at)
        SELECT r.event_id, r.rule_id, r.sag_id, r.user_id, r.email, r.recipient, r.channel, r.status, r.title,
               r.message, r.priority, r.escalated, r.quiet_until, r.held_for_opening, r.sent_at, p_now, p_now
        FROM to_write r WHERE r.fresh
        ORDER BY r.event_id, r.recipient, r.channel
        RETURNING l.id, l.event_id, l.user_id, l.channel, l.status, l.deliver_after, l.held_for_opening
    ), inserted_again AS (
        -- An event reserved before (a retry, a batch taken over): the rows an earlier attempt wrote
        -- are skipped on the log's unique key.
        INSERT INTO sag_reminder_logs AS l (event_id, rule_id, sag_id, user_id, email, recipient, channel, status,
                                            title, message, priority, escalated, deliver_after, held_for_opening,
                                            sent_at, created_at, updated_at)
        SELECT r.event_id, r.rule_id, r.sag_id, r.user_id, r.email, r.recipient, r.channel, r.status, r.title,
               r.message, r.priority, r.escalated, r.quiet_until, r.held_for_opening, r.sent_at, p_now, p_now
        FROM to_write r WHERE NOT r.fresh
        ORDER BY r.event_id, r.recipient, r.channel
        ON CONFLICT ON CONSTRAINT sag_reminder_logs_delivery_key DO NOTHING
        RETURNING l.id, l.event_id, l.user_id, l.channel, l.status, l.deliver_after, l.held_for_opening
    ), inserted AS (
        SELECT * FROM inserted_fresh UNION ALL SELECT * FROM inserted_again
    ), queued AS (
        -- What the rows call for, one INSERT (each a plan node tree opening the queue and its indexes
        -- for every batch, most of them inserting nothing):
        -- * held back: at most one "n reminders held back" summary per user and window; it waits,
        --   pending, for the window's end;
        -- * what quiet hours deferred goes out as one summary when they end ('digest'); what a rule's
        --   opening hours held, when the calendar opens ('opening', opening_hours.py);
        -- * re-remind every N hours while someone has not acknowledged (acknowledged users are left
        --   out above).
        INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, target_user_id, event_data, dedup_key,
                                        scheduled_for)
        SELECT NULL::integer, NULL::integer, 'held_back', NULL::text, lim.user_id, jsonb_build_object('window_start', date_trunc('hour', p_now)),
               'held:' || lim.user_id || ':' || extract(epoch FROM date_trunc('hour', p_now))::bigint,
               date_trunc('hour', p_now) + interval '1 hour'
        FROM (SELECT DISTINCT i.user_id FROM inserted i WHERE i.status = 'rate_limited' AND i.user_id IS NOT NULL) AS lim
        UNION ALL
        SELECT NULL::integer, NULL::integer, o.kind, NULL::text, o.user_id,
               jsonb_build_object(CASE o.kind WHEN 'digest' THEN 'quiet_until' ELSE 'opens_at' END, o.deliver_after),
               o.kind || ':' || o.user_id || ':' || extract(epoch FROM o.deliver_after)::bigint, o.deliver_after
        FROM (SELECT DISTINCT CASE WHEN i.held_for_opening THEN 'opening' ELSE 'digest' END AS kind,
                              i.user_id, i.deliver_after
              FROM inserted i WHERE i.status = 'deferred' AND i.user_id IS NOT NULL) AS o
        UNION ALL
        SELECT ev.reminder_id, ev.sag_id, 'repeat', ev.trigger_type, NULL::integer,
               jsonb_build_object('occurrence', COALESCE((ev.event_data->>'occurrence')::int, 1) + 1),
               'repeat:' || ev.reminder_id || ':' || ev.sag_id,
               p_now + make_interval(hours => ev.repeat_every_hours)
        FROM ev
        WHERE ev.repeat_every_hours IS NOT NULL AND ev.kind IN ('rule', 'repeat')
          AND EXISTS (SELECT 1 FROM inserted i WHERE i.event_id = ev.event_id AND i.user_id IS NOT NULL
                      AND i.status <> 'suppressed')
        ON CONFLICT (dedup_key) WHERE status = 'pending' AND dedup_key IS NOT NULL DO NOTHING
    ), finished AS (
        -- Events with no channel that delivers later (no `pending` rows) are done in this same transaction.
        UPDATE sag_reminder_queue q
        SET status = 'sent', processed_at = p_now, lease_owner = NULL, lease_expires_at = NULL,
            last_error = NULL, updated_at = p_now
        WHERE q.id = ANY (p_finish_ids) AND q.status = 'processing'
    )
    -- (The summaries, repeats and the finish run to completion unread, as every data-modifying CTE.)
    SELECT (SELECT count(*) FROM inserted)::int,
           (SELECT count(*) FROM inserted i WHERE i.status IN ('sent', 'pending'))::int;
    PERFORM set_config('sag.references_locked', '', true);
END;
$$;
