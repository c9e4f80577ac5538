-- Per-case SLA clocks: each calendar's open spans with running totals (so adding working
-- minutes in SQL is two index lookups), one clock row per case, and the triggers that keep
-- the clocks true when a case, a policy, a customer's calendar or a calendar changes.
-- The functions are in sla/functions/sag_working_time.sql and sla/functions/sag_sla_clock.sql.

-- Written by the application whenever a calendar is saved (sla/spans.py), in the same
-- transaction, and kept years ahead by the calendar_spans job: the holidays package is Python, so PostgreSQL cannot expand a calendar itself.
CREATE TABLE sag_calendar_spans (
    calendar_id  INTEGER NOT NULL REFERENCES sag_calendars(id) ON DELETE CASCADE,
    start_at     TIMESTAMPTZ NOT NULL,
    end_at       TIMESTAMPTZ NOT NULL,
    -- Open seconds of this calendar before start_at / up to end_at, counted from its first span.
    open_before  BIGINT NOT NULL CHECK (open_before >= 0),
    open_after   BIGINT NOT NULL,
    PRIMARY KEY (calendar_id, start_at),
    CHECK (end_at > start_at),
    CHECK (open_after = open_before + extract(epoch FROM end_at - start_at)::bigint)
);
CREATE UNIQUE INDEX sag_calendar_spans_after_idx ON sag_calendar_spans (calendar_id, open_after);

-- One row per case, derived from the case, its status history, its policy and the calendar
-- spans by sag_sla_refresh(); a table of its own so that recomputing after a policy or
-- calendar change does not touch the cases (no version or updated_at bump, no lock on them).
CREATE TABLE sag_sla_clocks (
    sag_id              INTEGER PRIMARY KEY REFERENCES sag_sager(id) ON DELETE CASCADE,
    policy_id           INTEGER REFERENCES sag_sla_policies(id) ON DELETE SET NULL,
    calendar_id         INTEGER REFERENCES sag_calendars(id) ON DELETE SET NULL,
    first_response_at   TIMESTAMPTZ,
    response_due_at     TIMESTAMPTZ,
    response_warn_at    TIMESTAMPTZ,
    resolution_due_at   TIMESTAMPTZ,
    resolution_warn_at  TIMESTAMPTZ,
    -- Working minutes the resolution clock stood still (pause statuses, closed spells)
    -- before paused_since; paused_since = it stands still now.
    paused_minutes      DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (paused_minutes >= 0),
    paused_since        TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sag_sla_clocks_policy_idx ON sag_sla_clocks (policy_id);
CREATE INDEX sag_sla_clocks_calendar_idx ON sag_sla_clocks (calendar_id);
CREATE INDEX sag_sla_clocks_resolution_due_idx ON sag_sla_clocks (resolution_due_at);
CREATE TRIGGER sag_sla_clocks_set_updated_at BEFORE UPDATE ON sag_sla_clocks
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Named to run after sag_sager_status_history (AFTER triggers fire in name order), so the
-- status change being made is in the history the clock is computed from.
CREATE TRIGGER sag_sager_update_sla AFTER INSERT OR UPDATE OF status, priority, customer_id
    ON sag_sager FOR EACH ROW EXECUTE FUNCTION sag_sla_track_case();

-- Whatever changes which policy, calendar or hours apply recomputes the open cases' clocks.
CREATE TRIGGER sag_sla_policies_refresh AFTER INSERT OR UPDATE OR DELETE ON sag_sla_policies
    FOR EACH STATEMENT EXECUTE FUNCTION sag_sla_refresh_open();
CREATE TRIGGER sag_sla_pause_statuses_refresh AFTER INSERT OR UPDATE OR DELETE ON sag_sla_pause_statuses
    FOR EACH STATEMENT EXECUTE FUNCTION sag_sla_refresh_open();
CREATE TRIGGER sag_customer_calendars_refresh AFTER INSERT OR UPDATE OR DELETE ON sag_customer_calendars
    FOR EACH STATEMENT EXECUTE FUNCTION sag_sla_refresh_open();
CREATE TRIGGER sag_calendars_refresh AFTER INSERT OR UPDATE OF is_default ON sag_calendars
    FOR EACH STATEMENT EXECUTE FUNCTION sag_sla_refresh_open();
-- A calendar's spans written again: the open cases on that calendar only.
CREATE TRIGGER sag_calendar_spans_refresh_insert AFTER INSERT ON sag_calendar_spans
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION sag_sla_refresh_calendar();
CREATE TRIGGER sag_calendar_spans_refresh_delete AFTER DELETE ON sag_calendar_spans
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION sag_sla_refresh_calendar();

-- Cases that existed before this migration get their clock row.
INSERT INTO sag_sla_clocks (sag_id) SELECT id FROM sag_sager;
