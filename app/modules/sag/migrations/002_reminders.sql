-- Reminder engine: rules, the event queue, delivery logs and rate-limit windows, plus the
-- triggers that enqueue and (re)schedule events in the same transaction as the change.
--
-- Event kinds in the queue:
--   rule       one firing of a rule for one case (status change, deadline, or a child of a tick)
--   tick       a time-based rule's clock (scheduled/recurring/inactivity); the worker expands it
--              into `rule` events for the matching cases and schedules the next tick
--   snooze     a snoozed reminder coming back for one user
--   repeat     "re-remind every N hours until acknowledged" (may escalate to a role)
--   digest     the one e-mail summary of what quiet hours deferred
--   held_back  the one "n reminders held back" summary after a rate-limit window

CREATE TABLE sag_reminders (
    id                  SERIAL PRIMARY KEY,
    name                VARCHAR(200) NOT NULL CHECK (btrim(name) <> ''),
    -- NULL: the rule applies to every case.
    sag_id              INTEGER REFERENCES sag_sager(id) ON DELETE CASCADE,
    trigger_type        VARCHAR(16) NOT NULL
                        CHECK (trigger_type IN ('status_change', 'scheduled', 'deadline', 'recurring', 'inactivity')),
    -- status_change {"from": "new"|"any", "to": "..."|"any"}; scheduled {"at": iso};
    -- deadline {"offset_minutes": 1440}; recurring {"cron": "0 8 * * 1-5", "timezone": "...", "until": iso|null};
    -- inactivity {"days": 5}
    trigger_config      JSONB NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(trigger_config) = 'object'),
    -- Denormalised for the status trigger's join (NULL = any).
    from_status         VARCHAR(32) GENERATED ALWAYS AS (
                            CASE WHEN trigger_type = 'status_change'
                                 THEN NULLIF(trigger_config->>'from', 'any') END) STORED,
    to_status           VARCHAR(32) GENERATED ALWAYS AS (
                            CASE WHEN trigger_type = 'status_change'
                                 THEN NULLIF(trigger_config->>'to', 'any') END) STORED,
    -- {"assignee": bool, "creator": bool, "users": [ids], "roles": ["admin"], "emails": ["a@b"]}
    recipients          JSONB NOT NULL DEFAULT '{"assignee": true}'::jsonb CHECK (jsonb_typeof(recipients) = 'object'),
    channels            TEXT[] NOT NULL DEFAULT ARRAY['in_app']
                        CHECK (cardinality(channels) BETWEEN 1 AND 2 AND channels <@ ARRAY['in_app', 'email']),
    title_template      VARCHAR(500) NOT NULL CHECK (btrim(title_template) <> ''),
    message_template    TEXT NOT NULL DEFAULT '' CHECK (length(message_template) <= 5000),
    priority            VARCHAR(8) NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    repeat_every_hours  INTEGER CHECK (repeat_every_hours BETWEEN 1 AND 720),
    escalate_after      INTEGER CHECK (escalate_after BETWEEN 1 AND 100),
    escalate_role       VARCHAR(16) CHECK (escalate_role IN ('admin', 'user')),
    created_by          INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- The next tick of a scheduled/recurring/inactivity rule (the rule trigger queues it).
    next_run_at         TIMESTAMPTZ,
    last_run_at         TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((escalate_after IS NULL) = (escalate_role IS NULL))
);
CREATE INDEX sag_reminders_sag_idx ON sag_reminders (sag_id);
CREATE INDEX sag_reminders_status_rules_idx ON sag_reminders (trigger_type, sag_id) WHERE active;
CREATE TRIGGER sag_reminders_set_updated_at BEFORE UPDATE ON sag_reminders
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Queue and logs are written only by this module's SQL, which sets updated_at itself:
-- a per-row trigger would cost the hot path for nothing.
CREATE TABLE sag_reminder_queue (
    id                  BIGSERIAL PRIMARY KEY,
    -- No foreign keys here on purpose: every status change inserts a row, and the key checks
    -- were a large share of the trigger's cost. A deleted rule or case shows up as a missing
    -- row when the event is processed ("rule deleted" / "case deleted"); a rule's delete
    -- trigger cancels its pending events first.
    reminder_id         INTEGER,
    sag_id              INTEGER,
    kind                VARCHAR(10) NOT NULL DEFAULT 'rule'
                        CHECK (kind IN ('rule', 'tick', 'snooze', 'repeat', 'digest', 'held_back')),
    trigger_type        VARCHAR(16),
    target_user_id      INTEGER,
    event_data          JSONB NOT NULL DEFAULT '{}'::jsonb,
    -- At most one pending event per key (a deadline per rule and case, one digest per quiet period ...).
    dedup_key           TEXT,
    scheduled_for       TIMESTAMPTZ NOT NULL DEFAULT now(),
    status              VARCHAR(10) NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'processing', 'sent', 'failed', 'cancelled', 'skipped')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT,
    lease_owner         TEXT,
    lease_expires_at    TIMESTAMPTZ,
    processed_at        TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- "Next due pending" stays an index range scan however many processed rows pile up.
CREATE INDEX sag_reminder_queue_due_idx ON sag_reminder_queue (scheduled_for) WHERE status = 'pending';
CREATE INDEX sag_reminder_queue_lease_idx ON sag_reminder_queue (lease_expires_at) WHERE status = 'processing';
-- For cancelling and rescheduling a case's or a rule's time-based events, and for "was this
-- deadline already reminded". Status-change firings (the hot insert path: every index costs
-- each status update) are left out: they are due at once, and the worker skips them itself
-- when their rule is gone.
CREATE INDEX sag_reminder_queue_case_idx ON sag_reminder_queue (sag_id, reminder_id)
    WHERE NOT (kind = 'rule' AND trigger_type = 'status_change');
CREATE INDEX sag_reminder_queue_rule_pending_idx ON sag_reminder_queue (reminder_id)
    WHERE status = 'pending' AND NOT (kind = 'rule' AND trigger_type = 'status_change');
-- Throughput of the last hour and the latest failures (queue overview).
CREATE INDEX sag_reminder_queue_done_idx ON sag_reminder_queue (status, processed_at)
    WHERE status IN ('sent', 'failed');
CREATE UNIQUE INDEX sag_reminder_queue_dedup_key ON sag_reminder_queue (dedup_key)
    WHERE status = 'pending' AND dedup_key IS NOT NULL;

-- Status-change firings are written here first, by the case trigger: one narrow row and no
-- index at all, so a status update pays as little as possible (a primary key added ~2.5 us to
-- every status update, a third of the insert). It is durable and in the same transaction as
-- the change; the claim function moves rows into the queue (set-based, by ctid) before it
-- claims, so a firing is processed exactly like any queued event. The inbox is drained on
-- every claim, so reading it whole is cheap; `id` only orders the firings (oldest first).
CREATE TABLE sag_reminder_inbox (
    id              BIGSERIAL NOT NULL,
    reminder_id     INTEGER NOT NULL,
    sag_id          INTEGER NOT NULL,
    event_data      JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE sag_reminder_logs (
    id                  BIGSERIAL PRIMARY KEY,
    event_id            BIGINT NOT NULL REFERENCES sag_reminder_queue(id) ON DELETE CASCADE,
    rule_id             INTEGER REFERENCES sag_reminders(id) ON DELETE SET NULL,
    sag_id              INTEGER REFERENCES sag_sager(id) ON DELETE CASCADE,
    user_id             INTEGER REFERENCES users(id) ON DELETE CASCADE,
    -- The address an e-mail went to (the user's at the time, or an external one).
    email               VARCHAR(254),
    -- 'u:<user id>' or 'e:<address>': the recipient half of the idempotency key.
    recipient           TEXT NOT NULL,
    channel             VARCHAR(8) NOT NULL CHECK (channel IN ('in_app', 'email')),
    -- pending = an e-mail written but not yet handed to the transport.
    status              VARCHAR(12) NOT NULL
                        CHECK (status IN ('pending', 'sent', 'failed', 'rate_limited', 'suppressed', 'deferred')),
    title               VARCHAR(500) NOT NULL,
    message             TEXT NOT NULL DEFAULT '',
    priority            VARCHAR(8) NOT NULL DEFAULT 'normal',
    escalated           BOOLEAN NOT NULL DEFAULT FALSE,
    error               TEXT,
    -- A deferred e-mail goes out (in the digest) at the end of the quiet period.
    deliver_after       TIMESTAMPTZ,
    sent_at             TIMESTAMPTZ,
    seen_at             TIMESTAMPTZ,
    clicked_at          TIMESTAMPTZ,
    dismissed_at        TIMESTAMPTZ,
    snoozed_until       TIMESTAMPTZ,
    acknowledged_at     TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT sag_reminder_logs_delivery_key UNIQUE (event_id, recipient, channel)
);
CREATE INDEX sag_reminder_logs_user_idx ON sag_reminder_logs (user_id, id DESC);
CREATE INDEX sag_reminder_logs_unread_idx ON sag_reminder_logs (user_id)
    WHERE channel = 'in_app' AND status = 'sent' AND seen_at IS NULL AND dismissed_at IS NULL;
CREATE INDEX sag_reminder_logs_case_idx ON sag_reminder_logs (sag_id, id DESC);
CREATE INDEX sag_reminder_logs_ack_idx ON sag_reminder_logs (rule_id, sag_id, user_id)
    WHERE acknowledged_at IS NOT NULL;
CREATE INDEX sag_reminder_logs_deferred_idx ON sag_reminder_logs (user_id, deliver_after)
    WHERE status = 'deferred';
CREATE INDEX sag_reminder_logs_limited_idx ON sag_reminder_logs (user_id, created_at)
    WHERE status = 'rate_limited';

-- Fixed one-hour windows; `used` counts reminders counted against the cap (granted or not),
-- so a single upsert both reserves and reports the previous total atomically.
CREATE TABLE sag_reminder_rate (
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    window_start    TIMESTAMPTZ NOT NULL,
    used            INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, window_start)
);

-- ---------------------------------------------------------------------------------------
-- Functions shared by the worker and the preview

-- End of the quiet period `p_now` falls in (in the user's zone), or NULL when not quiet.
-- Handles periods over midnight (22:00-07:00); DST is PostgreSQL's zone arithmetic.
CREATE OR REPLACE FUNCTION sag_quiet_until(p_tz TEXT, p_start TIME, p_end TIME, p_now TIMESTAMPTZ)
RETURNS TIMESTAMPTZ LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_start IS NULL OR p_end IS NULL OR p_start = p_end THEN NULL
        WHEN p_start < p_end THEN
            CASE WHEN lt::time >= p_start AND lt::time < p_end THEN (lt::date + p_end) AT TIME ZONE p_tz END
        WHEN lt::time >= p_start THEN ((lt::date + 1) + p_end) AT TIME ZONE p_tz
        WHEN lt::time < p_end THEN (lt::date + p_end) AT TIME ZONE p_tz
    END
    FROM (SELECT CASE WHEN p_start IS NULL THEN NULL ELSE p_now AT TIME ZONE p_tz END AS lt) AS local_now
$$;

-- Recipients of one firing, resolved now (so a re-assigned case reminds the new assignee),
-- one row per user (deduplicated) plus one per external address.
-- p_target: snooze events go to that user only. p_escalate_role: add that role's users.
CREATE OR REPLACE FUNCTION sag_reminder_recipients(
    p_recipients JSONB, p_assigned INTEGER, p_created INTEGER, p_target INTEGER, p_escalate_role TEXT)
RETURNS TABLE (user_id INTEGER, email TEXT, escalated BOOLEAN) LANGUAGE sql STABLE AS $$
    SELECT u.id, u.email::text, bool_and(c.esc)
    FROM (
        SELECT p_target, FALSE WHERE p_target IS NOT NULL
        UNION ALL
        SELECT p_assigned, FALSE WHERE p_target IS NULL AND (p_recipients->>'assignee')::boolean
        UNION ALL
        SELECT p_created, FALSE WHERE p_target IS NULL AND (p_recipients->>'creator')::boolean
        UNION ALL
        SELECT x::integer, FALSE
        FROM jsonb_array_elements_text(CASE WHEN p_target IS NULL AND jsonb_typeof(p_recipients->'users') = 'array'
                                            THEN p_recipients->'users' ELSE '[]'::jsonb END) AS x
        UNION ALL
        SELECT ru.id, FALSE FROM users ru
        WHERE p_target IS NULL AND ru.active AND jsonb_typeof(p_recipients->'roles') = 'array'
          AND p_recipients->'roles' ? ru.role
        UNION ALL
        SELECT eu.id, TRUE FROM users eu WHERE p_escalate_role IS NOT NULL AND eu.active AND eu.role = p_escalate_role
    ) AS c (uid, esc)
    JOIN users u ON u.id = c.uid AND u.active
    GROUP BY u.id, u.email
    UNION ALL
    SELECT DISTINCT NULL::integer, lower(x), FALSE
    FROM jsonb_array_elements_text(CASE WHEN p_target IS NULL AND jsonb_typeof(p_recipients->'emails') = 'array'
                                        THEN p_recipients->'emails' ELSE '[]'::jsonb END) AS x
$$;

-- Where a batch of rendered firings goes: one row per recipient and channel, resolved now,
-- leaving out users who acknowledged the rule for the case since its last status change, with
-- each channel's preference and quiet-hours end. Rows a retried event already wrote are not
-- filtered here (an anti-join against the whole log table per batch); the log insert skips them
-- on its unique key, and the rate reservation then counts them twice, which only errs on the
-- side of fewer pushes.
-- The firings come as parallel arrays (event ids, titles, messages, escalate flags). The worker
-- calls it twice per batch (reserve the rate limit, then write).
CREATE OR REPLACE FUNCTION sag_reminder_destinations(
    p_ids BIGINT[], p_titles TEXT[], p_messages TEXT[], p_escalate BOOLEAN[], p_now TIMESTAMPTZ,
    p_default_max INTEGER)
RETURNS TABLE (event_id BIGINT, user_id INTEGER, email TEXT, escalated BOOLEAN, recipient TEXT, channel TEXT,
               title TEXT, message TEXT, priority TEXT, reminder_id INTEGER, sag_id INTEGER, enabled BOOLEAN,
               quiet_until TIMESTAMPTZ, cap INTEGER)
LANGUAGE sql STABLE AS $$
    WITH items AS (
        SELECT * FROM unnest(p_ids, p_titles, p_messages, p_escalate) AS i (event_id, title, message, escalate)
    ), ev AS (
        SELECT it.event_id, it.title, it.message, it.escalate, q.reminder_id, q.sag_id, q.target_user_id,
               q.trigger_type, r.recipients, r.channels, r.priority, r.escalate_role, s.assigned_to, s.created_by,
               (SELECT max(h.changed_at) FROM sag_status_history h WHERE h.sag_id = q.sag_id) AS status_changed_at
        FROM items it
        JOIN sag_reminder_queue q ON q.id = it.event_id
        JOIN sag_reminders r ON r.id = q.reminder_id
        JOIN sag_sager s ON s.id = q.sag_id
    ), rcp AS (
        SELECT ev.event_id, x.user_id, x.email, x.escalated,
               CASE WHEN x.user_id IS NULL THEN 'e:' || x.email ELSE 'u:' || x.user_id END AS recipient
        FROM ev
        CROSS JOIN LATERAL sag_reminder_recipients(ev.recipients, ev.assigned_to, ev.created_by, ev.target_user_id,
                                                   CASE WHEN ev.escalate THEN ev.escalate_role END) AS x
        WHERE x.user_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM sag_reminder_logs a
            WHERE a.rule_id = ev.reminder_id AND a.sag_id = ev.sag_id AND a.user_id = x.user_id
              AND a.acknowledged_at IS NOT NULL
              AND a.acknowledged_at > COALESCE(ev.status_changed_at, '-infinity'::timestamptz))
    )
    SELECT rcp.event_id, rcp.user_id, rcp.email, rcp.escalated, rcp.recipient, ch.channel,
           ev.title, ev.message, ev.priority, ev.reminder_id, ev.sag_id,
           CASE WHEN rcp.user_id IS NULL THEN TRUE
                ELSE COALESCE((p.trigger_overrides->ev.trigger_type->>ch.channel)::boolean,
                              CASE ch.channel WHEN 'in_app' THEN p.in_app_enabled ELSE p.email_enabled END,
                              TRUE)
           END,
           CASE WHEN ch.channel = 'email' AND rcp.user_id IS NOT NULL
                THEN sag_quiet_until(u.timezone, p.quiet_hours_start, p.quiet_hours_end, p_now) END,
           COALESCE(p.max_per_hour, p_default_max)
    FROM rcp
    JOIN ev ON ev.event_id = rcp.event_id
    CROSS JOIN LATERAL unnest(ev.channels) AS ch (channel)
    LEFT JOIN users u ON u.id = rcp.user_id
    LEFT JOIN user_notification_preferences p ON p.user_id = rcp.user_id
    WHERE rcp.user_id IS NOT NULL OR ch.channel = 'email'
$$;

-- Claim a batch: due pending events plus processing events whose worker's lease expired
-- (a crashed worker's batch is taken over). SKIP LOCKED lets any number of workers claim at once.
-- NO KEY UPDATE: the key-share locks that log inserts take on their event (foreign key) must not
-- make a claimer skip an event, e.g. one whose dead worker's backend has not yet gone away.
CREATE OR REPLACE FUNCTION sag_claim_reminder_events(
    p_worker TEXT, p_limit INTEGER, p_lease_s DOUBLE PRECISION, p_now TIMESTAMPTZ)
RETURNS SETOF sag_reminder_queue LANGUAGE plpgsql AS $$
BEGIN
    -- Status-change firings waiting in the inbox become queue rows (due at their change time).
    -- The inbox has no index: the oldest firings are picked from a scan and deleted by ctid
    -- (inbox rows are never updated, and the row lock keeps the ctid ours until the delete).
    WITH picked AS (
        SELECT ctid FROM sag_reminder_inbox ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED
    ), moved AS (
        DELETE FROM sag_reminder_inbox
        WHERE ctid = ANY (ARRAY(SELECT ctid FROM picked))
        RETURNING reminder_id, sag_id, event_data, created_at, id
    )
    INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, event_data, scheduled_for,
                                    created_at, updated_at)
    SELECT reminder_id, sag_id, 'rule', 'status_change', event_data, created_at, created_at, created_at
    FROM moved ORDER BY id;

    RETURN QUERY
    WITH due AS (
        SELECT id FROM sag_reminder_queue
        WHERE status = 'pending' AND scheduled_for <= p_now
        ORDER BY scheduled_for
        LIMIT p_limit
        FOR NO KEY UPDATE SKIP LOCKED
    ), expired AS (
        SELECT id FROM sag_reminder_queue
        WHERE status = 'processing' AND lease_expires_at < p_now
        ORDER BY lease_expires_at
        LIMIT p_limit
        FOR NO KEY UPDATE SKIP LOCKED
    )
    UPDATE sag_reminder_queue q
    SET status = 'processing', lease_owner = p_worker,
        lease_expires_at = p_now + make_interval(secs => p_lease_s),
        attempts = q.attempts + 1, updated_at = p_now
    WHERE q.id IN (SELECT id FROM due UNION ALL SELECT id FROM expired)
    RETURNING q.*;
END;
$$;

-- ---------------------------------------------------------------------------------------
-- Triggers

-- Workers LISTEN on sag_reminder_queue. Whatever queues an event that may be due now
-- notifies (one notification per transaction); an idle worker also re-reads the next due
-- time at least every second, which covers events queued for later.

-- Deadline events for the given cases and rules: at deadline - offset (or now when that has
-- passed but the deadline has not), skipping firings already sent for the same deadline.
CREATE OR REPLACE FUNCTION sag_schedule_deadlines(p_case_ids INTEGER[], p_rule_id INTEGER)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, event_data, dedup_key, scheduled_for)
    SELECT r.id, s.id, 'rule', 'deadline',
           jsonb_build_object('deadline', s.deadline, 'offset_minutes', (r.trigger_config->>'offset_minutes')::int),
           'deadline:' || r.id || ':' || s.id,
           greatest(s.deadline - make_interval(mins => (r.trigger_config->>'offset_minutes')::int), now())
    FROM sag_reminders r
    JOIN sag_sager s ON (r.sag_id IS NULL OR r.sag_id = s.id)
    WHERE r.active AND r.trigger_type = 'deadline'
      AND (p_rule_id IS NULL OR r.id = p_rule_id)
      AND (p_case_ids IS NULL OR s.id = ANY (p_case_ids))
      AND s.closed_at IS NULL AND s.deadline IS NOT NULL AND s.deadline > now()
      AND NOT EXISTS (
          SELECT 1 FROM sag_reminder_queue d
          WHERE d.sag_id = s.id AND d.reminder_id = r.id AND d.trigger_type = 'deadline'
            AND NOT (d.kind = 'rule' AND d.trigger_type = 'status_change')
            AND d.status IN ('sent', 'processing', 'pending')
            AND (d.event_data->>'deadline')::timestamptz = s.deadline
            AND (d.event_data->>'offset_minutes')::int = (r.trigger_config->>'offset_minutes')::int)
    ON CONFLICT (dedup_key) WHERE status = 'pending' AND dedup_key IS NOT NULL DO NOTHING;
    IF FOUND THEN
        PERFORM pg_notify('sag_reminder_queue', '');
    END IF;
END;
$$;

-- The cases' reminder trigger, one function for both of its jobs:
-- * a status change enqueues the matching active status_change rules (case-specific and
--   global) in the same transaction; a new case counts as a change from nothing into its
--   first status;
-- * closing a case cancels its pending time-based events (status-change events still fire);
--   a deadline change or reopening reschedules the deadline events.
-- One row trigger with one WHEN clause rather than a trigger per job: the server prepares a
-- trigger's WHEN clause afresh for every UPDATE statement, and with two triggers that was
-- a large share of what the reminders added to each status update. Edits that touch neither
-- status, deadline nor closing never enter PL/pgSQL. (closed_at follows the status, but is
-- tested too: a status reconfigured as closed closes a case on its next edit.)
CREATE OR REPLACE FUNCTION sag_cases_reminders() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_status VARCHAR(32) := CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END;
    notified TEXT;
BEGIN
    IF TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status THEN
        INSERT INTO sag_reminder_inbox (reminder_id, sag_id, event_data)
        SELECT r.id, NEW.id, jsonb_build_object('from', old_status, 'to', NEW.status,
                                                'changed_by', sag_acting_user())
        FROM sag_reminders r
        WHERE r.active AND r.trigger_type = 'status_change'
          AND (r.sag_id IS NULL OR r.sag_id = NEW.id)
          AND (r.from_status IS NULL OR r.from_status = old_status)
          AND (r.to_status IS NULL OR r.to_status = NEW.status);
        IF FOUND THEN
            -- An assignment is evaluated as a plain expression; PERFORM would run a whole
            -- query (about 1 us more per status update). The server sends repeated
            -- notifications of one transaction (same channel and payload) once, at commit.
            notified := pg_notify('sag_reminder_queue', '')::text;
        END IF;
    END IF;

    IF TG_OP = 'UPDATE' AND NEW.closed_at IS NOT NULL AND OLD.closed_at IS NULL THEN
        UPDATE sag_reminder_queue
        SET status = 'cancelled', last_error = 'case closed', processed_at = now(), updated_at = now()
        WHERE sag_id = NEW.id AND status = 'pending' AND NOT (kind = 'rule' AND trigger_type = 'status_change');
    ELSIF NEW.closed_at IS NULL
          AND ((TG_OP = 'INSERT' AND NEW.deadline IS NOT NULL)
               OR (TG_OP = 'UPDATE' AND (OLD.deadline IS DISTINCT FROM NEW.deadline OR OLD.closed_at IS NOT NULL))) THEN
        IF TG_OP = 'UPDATE' THEN
            UPDATE sag_reminder_queue
            SET status = 'cancelled', last_error = 'deadline changed', processed_at = now(), updated_at = now()
            WHERE sag_id = NEW.id AND status = 'pending' AND NOT (kind = 'rule' AND trigger_type = 'status_change')
              AND kind = 'rule' AND trigger_type = 'deadline';
        END IF;
        PERFORM sag_schedule_deadlines(ARRAY[NEW.id], NULL);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER sag_sager_schedule_reminders AFTER UPDATE ON sag_sager
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.deadline IS DISTINCT FROM NEW.deadline
          OR (OLD.closed_at IS NULL) <> (NEW.closed_at IS NULL))
    EXECUTE FUNCTION sag_cases_reminders();
CREATE TRIGGER sag_sager_schedule_reminders_insert AFTER INSERT ON sag_sager
    FOR EACH ROW EXECUTE FUNCTION sag_cases_reminders();

-- Rule changes: deleting or deactivating cancels everything pending for the rule; creating or
-- changing its trigger (re)schedules: deadline events per case, or the next tick at next_run_at.
CREATE OR REPLACE FUNCTION sag_reminders_schedule() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NOT NEW.active THEN
        UPDATE sag_reminder_queue
        SET status = 'cancelled', processed_at = now(), updated_at = now(),
            last_error = CASE WHEN TG_OP = 'DELETE' THEN 'rule deleted' ELSE 'rule deactivated' END
        WHERE reminder_id = OLD.id AND status = 'pending' AND NOT (kind = 'rule' AND trigger_type = 'status_change');
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NULL END;
    END IF;

    UPDATE sag_reminder_queue
    SET status = 'cancelled', last_error = 'rule rescheduled', processed_at = now(), updated_at = now()
    WHERE reminder_id = NEW.id AND status = 'pending' AND NOT (kind = 'rule' AND trigger_type = 'status_change')
      AND (kind = 'tick' OR (kind = 'rule' AND trigger_type = 'deadline')
           OR (TG_OP = 'UPDATE' AND (OLD.trigger_type, OLD.trigger_config, OLD.sag_id)
                                    IS DISTINCT FROM (NEW.trigger_type, NEW.trigger_config, NEW.sag_id)));

    IF NEW.trigger_type = 'deadline' THEN
        PERFORM sag_schedule_deadlines(NULL, NEW.id);
    ELSIF NEW.trigger_type IN ('scheduled', 'recurring', 'inactivity') AND NEW.next_run_at IS NOT NULL THEN
        INSERT INTO sag_reminder_queue (reminder_id, sag_id, kind, trigger_type, event_data, dedup_key, scheduled_for)
        VALUES (NEW.id, NEW.sag_id, 'tick', NEW.trigger_type,
                jsonb_build_object('prev', NEW.last_run_at), 'tick:' || NEW.id, NEW.next_run_at)
        ON CONFLICT (dedup_key) WHERE status = 'pending' AND dedup_key IS NOT NULL DO NOTHING;
        PERFORM pg_notify('sag_reminder_queue', '');
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER sag_reminders_schedule_insert AFTER INSERT ON sag_reminders
    FOR EACH ROW EXECUTE FUNCTION sag_reminders_schedule();
CREATE TRIGGER sag_reminders_schedule_update AFTER UPDATE ON sag_reminders
    FOR EACH ROW
    WHEN ((OLD.active, OLD.trigger_type, OLD.trigger_config, OLD.sag_id, OLD.next_run_at, OLD.last_run_at)
          IS DISTINCT FROM (NEW.active, NEW.trigger_type, NEW.trigger_config, NEW.sag_id, NEW.next_run_at,
                            NEW.last_run_at))
    EXECUTE FUNCTION sag_reminders_schedule();
-- BEFORE DELETE: the pending events still reference the rule (the FK then sets NULL).
CREATE TRIGGER sag_reminders_cancel_on_delete BEFORE DELETE ON sag_reminders
    FOR EACH ROW EXECUTE FUNCTION sag_reminders_schedule();

-- The browser contract: every delivered in-app row, and every interaction change, is pushed
-- on channel bmc_user_notifications as {"user_id", "log_id", "event": "reminder"|"update", ...}
-- from inside the writing transaction.
CREATE OR REPLACE FUNCTION sag_reminder_logs_notify_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bmc_user_notifications',
                      json_build_object('user_id', n.user_id, 'log_id', n.id, 'event', 'reminder',
                                        'sag_id', n.sag_id, 'priority', n.priority)::text)
    FROM new_logs n
    WHERE n.channel = 'in_app' AND n.status = 'sent' AND n.user_id IS NOT NULL;
    RETURN NULL;
END;
$$;
CREATE TRIGGER sag_reminder_logs_notify_insert AFTER INSERT ON sag_reminder_logs
    REFERENCING NEW TABLE AS new_logs
    FOR EACH STATEMENT EXECUTE FUNCTION sag_reminder_logs_notify_insert();

CREATE OR REPLACE FUNCTION sag_reminder_logs_notify_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bmc_user_notifications',
                      json_build_object('user_id', n.user_id, 'log_id', n.id,
                                        'event', CASE WHEN n.channel = 'in_app' AND n.status = 'sent'
                                                           AND o.status <> 'sent' THEN 'reminder' ELSE 'update' END,
                                        'channel', n.channel)::text)
    FROM new_logs n JOIN old_logs o ON o.id = n.id
    WHERE n.user_id IS NOT NULL
      AND ((n.channel = 'in_app' AND n.status = 'sent' AND o.status <> 'sent')
           OR (n.seen_at, n.clicked_at, n.dismissed_at, n.snoozed_until, n.acknowledged_at)
              IS DISTINCT FROM (o.seen_at, o.clicked_at, o.dismissed_at, o.snoozed_until, o.acknowledged_at));
    RETURN NULL;
END;
$$;
CREATE TRIGGER sag_reminder_logs_notify_update AFTER UPDATE ON sag_reminder_logs
    REFERENCING OLD TABLE AS old_logs NEW TABLE AS new_logs
    FOR EACH STATEMENT EXECUTE FUNCTION sag_reminder_logs_notify_update();
