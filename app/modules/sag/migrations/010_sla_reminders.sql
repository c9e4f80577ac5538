-- Reminders in working time (issue 11): the `sla` trigger type, one row per armed SLA
-- threshold (its primary key is what makes each threshold fire once per rule, case and
-- target), and the rule option that holds firings outside a calendar's opening hours.
-- The functions are in reminders/functions/sag_schedule_sla.sql, sag_working_offsets.sql
-- and sag_reminder_destinations.sql.

ALTER TABLE sag_reminders DROP CONSTRAINT sag_reminders_trigger_type_check;
ALTER TABLE sag_reminders ADD CONSTRAINT sag_reminders_trigger_type_check
    CHECK (trigger_type IN ('status_change', 'scheduled', 'deadline', 'recurring', 'inactivity', 'sla'));

-- "Deliver only within opening hours": firings outside the calendar's opening hours are
-- written `deferred` until it opens. The calendar by name (NULL = the default calendar), as
-- the working-time offsets in trigger_config name theirs; a name that no longer exists
-- counts as the default calendar.
ALTER TABLE sag_reminders
    ADD COLUMN deliver_in_opening_hours BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN opening_hours_calendar VARCHAR(80),
    ADD CONSTRAINT sag_reminders_opening_hours_check
        CHECK (opening_hours_calendar IS NULL OR deliver_in_opening_hours);

-- held_for_opening: the row waits (deferred) for its rule's calendar to open, and goes out
-- through the `opening` kind rather than the quiet-hours digest. in_summary: it was delivered
-- as part of one summary (too many held for that user), so it is not pushed on its own.
ALTER TABLE sag_reminder_logs
    ADD COLUMN held_for_opening BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN in_summary BOOLEAN NOT NULL DEFAULT FALSE;

-- One row per (sla rule, case, target, threshold) once it was armed: `event_id` is the queue
-- event that fires it. A new event is queued only while that one was never sent (it was
-- cancelled by a pause, a met target or a rule change, or skipped); the row lock serialises
-- re-plans, so two writers never queue the same threshold twice. No foreign key to the
-- queue, which has none (migration 002).
CREATE TABLE sag_sla_thresholds (
    reminder_id  INTEGER NOT NULL REFERENCES sag_reminders(id) ON DELETE CASCADE,
    sag_id       INTEGER NOT NULL REFERENCES sag_sager(id) ON DELETE CASCADE,
    target       VARCHAR(10) NOT NULL CHECK (target IN ('response', 'resolution')),
    percent      SMALLINT NOT NULL CHECK (percent BETWEEN 1 AND 100),
    event_id     BIGINT,
    fire_at      TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (reminder_id, sag_id, target, percent)
);
CREATE INDEX sag_sla_thresholds_case_idx ON sag_sla_thresholds (sag_id);

-- A clock that moved (due times, pause, first response, policy or calendar) re-plans the
-- case's sla reminders in the same transaction. A recompute that changes nothing does not
-- enter the function.
CREATE TRIGGER sag_sla_clocks_schedule_reminders_insert AFTER INSERT ON sag_sla_clocks
    FOR EACH ROW EXECUTE FUNCTION sag_sla_clock_reminders();
CREATE TRIGGER sag_sla_clocks_schedule_reminders AFTER UPDATE ON sag_sla_clocks
    FOR EACH ROW
    WHEN ((OLD.policy_id, OLD.calendar_id, OLD.first_response_at, OLD.response_due_at, OLD.resolution_due_at,
           OLD.paused_minutes, OLD.paused_since)
          IS DISTINCT FROM (NEW.policy_id, NEW.calendar_id, NEW.first_response_at, NEW.response_due_at,
                            NEW.resolution_due_at, NEW.paused_minutes, NEW.paused_since))
    EXECUTE FUNCTION sag_sla_clock_reminders();
