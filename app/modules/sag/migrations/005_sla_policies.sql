-- SLA policies: which cases a policy applies to, its first-response and resolution targets
-- in working minutes of a calendar, and the statuses that pause its clock. A closed status
-- (sag_statuses.is_closed) fulfils it.

CREATE TABLE sag_sla_policies (
    id                  SERIAL PRIMARY KEY,
    name                VARCHAR(80) NOT NULL CHECK (btrim(name) <> '' AND name = btrim(name)),
    -- What the policy applies to: a priority, a customer, both, or neither (the default policy).
    priority            VARCHAR(8) CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    customer_id         INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    -- Targets in working minutes (one year of round-the-clock time at most).
    response_minutes    INTEGER NOT NULL CHECK (response_minutes BETWEEN 1 AND 525600),
    resolution_minutes  INTEGER NOT NULL CHECK (resolution_minutes BETWEEN 1 AND 525600),
    -- The clock shows "warning" once this share of a target's working time is used.
    warning_percent     SMALLINT NOT NULL DEFAULT 75 CHECK (warning_percent BETWEEN 1 AND 99),
    -- NULL: the case's customer's calendar (its own, else the default calendar).
    calendar_id         INTEGER REFERENCES sag_calendars(id) ON DELETE RESTRICT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (resolution_minutes >= response_minutes)
);
CREATE UNIQUE INDEX sag_sla_policies_name_idx ON sag_sla_policies (lower(name));
-- One policy per scope: at most one default, one per priority, per customer, per both.
CREATE UNIQUE INDEX sag_sla_policies_scope_idx ON sag_sla_policies (COALESCE(priority, ''), COALESCE(customer_id, 0));
CREATE INDEX sag_sla_policies_calendar_idx ON sag_sla_policies (calendar_id);
CREATE TRIGGER sag_sla_policies_set_updated_at BEFORE UPDATE ON sag_sla_policies
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The statuses that pause a policy's clock; rows rather than an array so that each status
-- key is checked by a foreign key (a status in use cannot be deleted).
CREATE TABLE sag_sla_pause_statuses (
    policy_id   INTEGER NOT NULL REFERENCES sag_sla_policies(id) ON DELETE CASCADE,
    status      VARCHAR(32) NOT NULL REFERENCES sag_statuses(key) ON DELETE RESTRICT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (policy_id, status)
);
CREATE INDEX sag_sla_pause_statuses_status_idx ON sag_sla_pause_statuses (status);
