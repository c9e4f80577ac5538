-- Rewritten when its functions moved to function files (functions/*.sql); a database
-- that applied the earlier text below is up to date (see docs/development.md).
-- supersedes: 9547cda55166c0b68a8c592b39fb3692686c3d0a1578669d977b8f385175c1fc
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
-- Triggers (their functions, and those the worker and the preview call, are in
-- reminders/functions/, one file each)

-- Workers LISTEN on sag_reminder_queue. Whatever queues an event that may be due now
-- notifies (one notification per transaction); an idle worker also re-reads the next due
-- time at least every second, which covers events queued for later.

-- Status changes enqueue status_change rules; closing, reopening and deadline changes
-- cancel or reschedule time-based events (reminders/functions/sag_cases_reminders.sql).
CREATE TRIGGER sag_sager_schedule_reminders AFTER UPDATE ON sag_sager
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.deadline IS DISTINCT FROM NEW.deadline
          OR (OLD.closed_at IS NULL) <> (NEW.closed_at IS NULL))
    EXECUTE FUNCTION sag_cases_reminders();
CREATE TRIGGER sag_sager_schedule_reminders_insert AFTER INSERT ON sag_sager
    FOR EACH ROW EXECUTE FUNCTION sag_cases_reminders();

-- Rule changes cancel or (re)schedule the rule's events (reminders/functions/sag_reminders_schedule.sql).
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

-- The browser contract: each delivered in-app row and each interaction change is pushed on
-- bmc_user_notifications from inside the writing transaction (reminders/functions/).
CREATE TRIGGER sag_reminder_logs_notify_insert AFTER INSERT ON sag_reminder_logs
    REFERENCING NEW TABLE AS new_logs
    FOR EACH STATEMENT EXECUTE FUNCTION sag_reminder_logs_notify_insert();

CREATE TRIGGER sag_reminder_logs_notify_update AFTER UPDATE ON sag_reminder_logs
    REFERENCING OLD TABLE AS old_logs NEW TABLE AS new_logs
    FOR EACH STATEMENT EXECUTE FUNCTION sag_reminder_logs_notify_update();
