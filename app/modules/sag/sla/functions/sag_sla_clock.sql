-- Per-case SLA clocks: recomputed from the case, its status history, its policy and its
-- calendar's spans (so a recompute is idempotent and a changed policy applies to the whole
-- history); the state is computed on read from the stored instants and the time asked about.

-- The clock of one case, from scratch. The policy is the most specific that fits (customer
-- and priority, customer, priority, default); the calendar the policy's, else the customer's
-- own, else the default. First response: the first status other than `new` or the first note
-- by someone other than the creator (deleted ones too: the answer was given), the earlier. The response clock never pauses (leaving `new` is the first response); the
-- resolution clock stands still in the policy's pause statuses and in closed statuses.
CREATE OR REPLACE FUNCTION sag_sla_refresh(case_id INTEGER) RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    c RECORD;
    p RECORD;
    cal INTEGER;
    h RECORD;
    stopped DOUBLE PRECISION := 0;
    prev_at TIMESTAMPTZ;
    prev_stop BOOLEAN := FALSE;
    responded TIMESTAMPTZ;
    base DOUBLE PRECISION;
    due TIMESTAMPTZ[];
BEGIN
    SELECT id, customer_id, priority, created_at, created_by INTO c FROM sag_sager WHERE id = case_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT min(changed_at) INTO responded FROM sag_status_history WHERE sag_id = case_id AND to_status <> 'new';
    responded := LEAST(responded, (SELECT min(n.created_at) FROM sag_notes n
                                   WHERE n.sag_id = case_id AND n.author_id IS DISTINCT FROM c.created_by));
    SELECT * INTO p FROM sag_sla_policies
    WHERE (customer_id = c.customer_id OR customer_id IS NULL) AND (priority = c.priority OR priority IS NULL)
    ORDER BY customer_id IS NULL, priority IS NULL LIMIT 1;
    IF p.id IS NOT NULL THEN
        cal := COALESCE(p.calendar_id,
                        (SELECT calendar_id FROM sag_customer_calendars WHERE customer_id = c.customer_id),
                        (SELECT id FROM sag_calendars WHERE is_default));
    END IF;
    IF cal IS NULL THEN
        INSERT INTO sag_sla_clocks (sag_id, policy_id, first_response_at) VALUES (case_id, p.id, responded)
        ON CONFLICT (sag_id) DO UPDATE SET policy_id = EXCLUDED.policy_id, calendar_id = NULL,
            first_response_at = EXCLUDED.first_response_at, response_due_at = NULL, response_warn_at = NULL,
            resolution_due_at = NULL, resolution_warn_at = NULL, paused_minutes = 0, paused_since = NULL;
        RETURN;
    END IF;
    FOR h IN
        SELECT sh.changed_at,
               (st.is_closed OR EXISTS (SELECT 1 FROM sag_sla_pause_statuses ps
                                        WHERE ps.policy_id = p.id AND ps.status = sh.to_status)) AS stops
        FROM sag_status_history sh JOIN sag_statuses st ON st.key = sh.to_status
        WHERE sh.sag_id = case_id ORDER BY sh.changed_at, sh.id
    LOOP
        IF prev_stop THEN
            stopped := stopped + greatest(0, sag_working_minutes_between(cal, prev_at, h.changed_at));
        END IF;
        prev_at := h.changed_at;
        prev_stop := h.stops;
    END LOOP;
    -- The four instants as sag_add_working_minutes(cal, created_at, target) gives them (targets
    -- are always > 0), with the open total before the creation looked up once rather than four
    -- times: this runs on every status change.
    base := sag_open_seconds(cal, c.created_at);
    SELECT array_agg((SELECT s.start_at + make_interval(secs => t.secs - s.open_before)
                      FROM sag_calendar_spans s
                      WHERE s.calendar_id = cal AND s.open_after >= ceil(t.secs)::bigint
                      ORDER BY s.open_after LIMIT 1) ORDER BY t.n)
    INTO due
    FROM unnest(ARRAY[base + p.response_minutes::double precision * 60,
                      base + (p.response_minutes * p.warning_percent / 100.0)::double precision * 60,
                      base + (p.resolution_minutes + stopped) * 60,
                      base + (p.resolution_minutes * p.warning_percent / 100.0 + stopped) * 60])
         WITH ORDINALITY AS t(secs, n);
    INSERT INTO sag_sla_clocks (sag_id, policy_id, calendar_id, first_response_at, response_due_at, response_warn_at,
                                resolution_due_at, resolution_warn_at, paused_minutes, paused_since)
    VALUES (case_id, p.id, cal, responded, due[1], due[2], due[3], due[4], stopped, CASE WHEN prev_stop THEN prev_at END)
    ON CONFLICT (sag_id) DO UPDATE SET policy_id = EXCLUDED.policy_id, calendar_id = EXCLUDED.calendar_id,
        first_response_at = EXCLUDED.first_response_at, response_due_at = EXCLUDED.response_due_at,
        response_warn_at = EXCLUDED.response_warn_at, resolution_due_at = EXCLUDED.resolution_due_at,
        resolution_warn_at = EXCLUDED.resolution_warn_at, paused_minutes = EXCLUDED.paused_minutes,
        paused_since = EXCLUDED.paused_since;
END;
$$;

-- Trigger on sag_sager (after the status history is written): the case's clock again.
-- Most status changes move between two statuses that both keep the clock running (new ->
-- in_progress, say): then the policy, calendar, paused time and due times stay as they are,
-- and at most the first response is new. That common case is one lookup and one small UPDATE
-- instead of the whole recompute (bench/sla_recompute.py, status_update_ratio).
CREATE OR REPLACE FUNCTION sag_sla_track_case() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    k RECORD;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.priority = OLD.priority AND NEW.customer_id IS NOT DISTINCT FROM OLD.customer_id
       AND NEW.status IS DISTINCT FROM OLD.status THEN
        SELECT sag_id, policy_id, first_response_at INTO k FROM sag_sla_clocks WHERE sag_id = NEW.id;
        IF FOUND AND NOT EXISTS (
            SELECT 1 FROM sag_statuses st
            WHERE st.key IN (OLD.status, NEW.status)
              AND (st.is_closed OR EXISTS (SELECT 1 FROM sag_sla_pause_statuses ps
                                           WHERE ps.policy_id = k.policy_id AND ps.status = st.key))) THEN
            -- Leaving `new` answers the case (the history row of this change is dated now()).
            -- The row is written either way, as the full recompute writes it (its updated_at
            -- says when the clock last followed the case).
            UPDATE sag_sla_clocks
            SET first_response_at = COALESCE(first_response_at, CASE WHEN NEW.status <> 'new' THEN now() END)
            WHERE sag_id = NEW.id;
            RETURN NULL;
        END IF;
    END IF;
    PERFORM sag_sla_refresh(NEW.id);
    RETURN NULL;
END;
$$;

-- Statement trigger on policies, pause statuses, customer calendars and calendars (a new or
-- another default):
-- every open case's clock again (closed cases keep the clock they closed with), in one
-- set-based statement (sag_sla_refresh_cases.sql).
CREATE OR REPLACE FUNCTION sag_sla_refresh_open() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sag_sla_refresh_cases(ARRAY(SELECT id FROM sag_sager WHERE closed_at IS NULL));
    RETURN NULL;
END;
$$;

-- Statement trigger on sag_calendar_spans (transition table `changed`): the open cases whose
-- clock runs on a calendar whose spans were written again. spans.write_spans deletes a
-- calendar's spans and copies the new ones in one transaction, with `sag.spans_rewrite` set
-- for the delete: recomputing between the two would only compute NULLs, so the delete skips
-- and the insert that follows recomputes.
CREATE OR REPLACE FUNCTION sag_sla_refresh_calendar() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('sag.spans_rewrite', true) = 'on' THEN
        RETURN NULL;
    END IF;
    PERFORM sag_sla_refresh_cases(ARRAY(
        SELECT k.sag_id FROM sag_sla_clocks k JOIN sag_sager s ON s.id = k.sag_id
        WHERE s.closed_at IS NULL AND k.calendar_id IN (SELECT DISTINCT calendar_id FROM changed)));
    RETURN NULL;
END;
$$;

-- The SLA state at instant `at`: NULL (no SLA), met, breached, paused, warning or ok.
CREATE OR REPLACE FUNCTION sag_sla_state(response_due TIMESTAMPTZ, response_warn TIMESTAMPTZ,
                                         responded TIMESTAMPTZ, resolution_due TIMESTAMPTZ,
                                         resolution_warn TIMESTAMPTZ, paused_since TIMESTAMPTZ,
                                         closed_at TIMESTAMPTZ, at TIMESTAMPTZ) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN response_due IS NULL OR resolution_due IS NULL THEN NULL
        WHEN COALESCE(responded, closed_at, at) > response_due
          OR COALESCE(closed_at, paused_since, at) > resolution_due THEN 'breached'
        WHEN closed_at IS NOT NULL THEN 'met'
        WHEN paused_since IS NOT NULL THEN 'paused'
        WHEN (responded IS NULL AND at >= response_warn) OR at >= resolution_warn THEN 'warning'
        ELSE 'ok'
    END
$$;

-- The due time that counts: the response's until it is given or when it came late, else the
-- resolution's.
CREATE OR REPLACE FUNCTION sag_sla_running_due(responded TIMESTAMPTZ, response_due TIMESTAMPTZ,
                                               resolution_due TIMESTAMPTZ) RETURNS TIMESTAMPTZ
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN responded IS NULL OR responded > response_due THEN response_due ELSE resolution_due END
$$;

-- One case's SLA fields as the case API shows them, at instant `at`: the state, both clocks,
-- the due time that counts (`sla_due_at`), its working minutes left (NULL once breached or
-- closed) and, once breached, the minutes since it passed.
CREATE OR REPLACE FUNCTION sag_sla_case(case_id INTEGER, at TIMESTAMPTZ)
RETURNS TABLE (sla_state TEXT, sla_policy_id INTEGER, sla_calendar_id INTEGER, first_response_at TIMESTAMPTZ,
               response_due_at TIMESTAMPTZ, resolution_due_at TIMESTAMPTZ, sla_paused_minutes DOUBLE PRECISION,
               sla_paused_since TIMESTAMPTZ, sla_due_at TIMESTAMPTZ, sla_minutes_left DOUBLE PRECISION,
               sla_breached_minutes_ago DOUBLE PRECISION)
LANGUAGE sql STABLE AS $$
    SELECT x.state, k.policy_id, k.calendar_id, k.first_response_at, k.response_due_at, k.resolution_due_at,
           k.paused_minutes, k.paused_since, x.due_at,
           -- sag_working_minutes_between(calendar, paused_since or at, due) written out: a call per
           -- row (it holds subqueries, so it is never inlined) cost more than its two lookups.
           CASE WHEN x.state IN ('ok', 'warning', 'paused')
                THEN round((
                    COALESCE((SELECT sp.open_before + greatest(0, extract(epoch FROM least(x.due_at, sp.end_at) - sp.start_at))
                              FROM sag_calendar_spans sp WHERE sp.calendar_id = k.calendar_id AND sp.start_at <= x.due_at
                              ORDER BY sp.start_at DESC LIMIT 1), 0)::double precision
                  - COALESCE((SELECT sp.open_before + greatest(0, extract(epoch FROM least(COALESCE(k.paused_since, at), sp.end_at)
                                                                               - sp.start_at))
                              FROM sag_calendar_spans sp
                              WHERE sp.calendar_id = k.calendar_id AND sp.start_at <= COALESCE(k.paused_since, at)
                              ORDER BY sp.start_at DESC LIMIT 1), 0)::double precision) / 60)
           END,
           CASE WHEN x.state = 'breached' THEN round(extract(epoch FROM at - x.due_at) / 60) END
    FROM sag_sla_clocks k
    JOIN sag_sager s ON s.id = k.sag_id
    CROSS JOIN LATERAL (
        SELECT sag_sla_state(k.response_due_at, k.response_warn_at, k.first_response_at, k.resolution_due_at,
                             k.resolution_warn_at, k.paused_since, s.closed_at, at) AS state,
               sag_sla_running_due(k.first_response_at, k.response_due_at, k.resolution_due_at) AS due_at
    ) AS x
    WHERE k.sag_id = case_id
$$;
