-- Set-based recompute of many cases' SLA clocks in one statement: the same result as calling
-- sag_sla_refresh(id) for each case (tests/test_sla_recompute.py compares them), but with one
-- plan for all cases instead of a few queries per case. Used by the statement triggers that
-- recompute every open case (a policy, pause status, customer calendar or default calendar
-- changed) or the open cases of one calendar (its spans were written again): 100,000 cases
-- then take seconds, not minutes.

-- The clocks of the given cases, from scratch (see sag_sla_refresh for the rules). Rows whose
-- values did not change are not written again. The arithmetic is written exactly as in
-- sag_add_working_minutes / sag_working_minutes_between (same operations, same order, the
-- paused spells summed in history order), so the due times are equal to the microsecond.
-- The span lookups are written out here rather than called: PostgreSQL does not inline a SQL
-- function holding a subquery, and a call per lookup cost more than the lookup itself.
CREATE OR REPLACE FUNCTION sag_sla_refresh_cases(case_ids INTEGER[]) RETURNS VOID
LANGUAGE sql AS $$
    WITH c AS (
        SELECT s.id, s.customer_id, s.priority, s.created_at, s.created_by
        FROM (SELECT DISTINCT unnest(case_ids) AS id) AS u
        JOIN sag_sager s ON s.id = u.id
    ), pc AS (
        SELECT c.id, c.created_at, c.created_by, p.id AS policy_id, p.response_minutes, p.resolution_minutes, p.warning_percent,
               CASE WHEN p.id IS NOT NULL
                    THEN COALESCE(p.calendar_id, cc.calendar_id, (SELECT d.id FROM sag_calendars d WHERE d.is_default))
               END AS cal
        FROM c
        LEFT JOIN LATERAL (
            SELECT p.* FROM sag_sla_policies p
            WHERE (p.customer_id = c.customer_id OR p.customer_id IS NULL) AND (p.priority = c.priority OR p.priority IS NULL)
            ORDER BY p.customer_id IS NULL, p.priority IS NULL LIMIT 1
        ) AS p ON TRUE
        LEFT JOIN sag_customer_calendars cc ON cc.customer_id = c.customer_id
    ), h AS (
        SELECT sh.sag_id, sh.id, sh.changed_at, sh.to_status, pc.cal,
               (st.is_closed OR EXISTS (SELECT 1 FROM sag_sla_pause_statuses ps
                                        WHERE ps.policy_id = pc.policy_id AND ps.status = sh.to_status)) AS stops,
               lead(sh.changed_at) OVER (PARTITION BY sh.sag_id ORDER BY sh.changed_at, sh.id) AS next_at
        FROM pc
        JOIN sag_status_history sh ON sh.sag_id = pc.id
        JOIN sag_statuses st ON st.key = sh.to_status
    ), hist AS (
        SELECT h.sag_id,
               min(h.changed_at) FILTER (WHERE h.to_status <> 'new') AS responded,
               sum(greatest(0, (
                       COALESCE((SELECT s.open_before + greatest(0, extract(epoch FROM least(h.next_at, s.end_at) - s.start_at))
                                 FROM sag_calendar_spans s WHERE s.calendar_id = h.cal AND s.start_at <= h.next_at
                                 ORDER BY s.start_at DESC LIMIT 1), 0)::double precision
                     - COALESCE((SELECT s.open_before + greatest(0, extract(epoch FROM least(h.changed_at, s.end_at) - s.start_at))
                                 FROM sag_calendar_spans s WHERE s.calendar_id = h.cal AND s.start_at <= h.changed_at
                                 ORDER BY s.start_at DESC LIMIT 1), 0)::double precision) / 60)
                   ORDER BY h.changed_at, h.id) FILTER (WHERE h.stops AND h.next_at IS NOT NULL) AS stopped,
               max(h.changed_at) FILTER (WHERE h.stops AND h.next_at IS NULL) AS paused_since
        FROM h GROUP BY h.sag_id
    ), computed AS (
        -- The first response: the first status change out of `new` or the first note by someone other
        -- than the creator, whichever came first (as sag_sla_refresh).
        SELECT pc.id, pc.policy_id, pc.cal,
               LEAST(hist.responded, (SELECT min(n.created_at) FROM sag_notes n
                                      WHERE n.sag_id = pc.id AND n.author_id IS DISTINCT FROM pc.created_by)) AS responded,
               CASE WHEN pc.cal IS NOT NULL THEN COALESCE(hist.stopped, 0) ELSE 0 END AS stopped,
               CASE WHEN pc.cal IS NOT NULL THEN hist.paused_since END AS paused_since,
               base.secs AS base, pc.response_minutes, pc.resolution_minutes, pc.warning_percent
        FROM pc
        LEFT JOIN hist ON hist.sag_id = pc.id
        LEFT JOIN LATERAL (
            SELECT COALESCE((SELECT s.open_before + greatest(0, extract(epoch FROM least(pc.created_at, s.end_at) - s.start_at))
                             FROM sag_calendar_spans s WHERE s.calendar_id = pc.cal AND s.start_at <= pc.created_at
                             ORDER BY s.start_at DESC LIMIT 1), 0)::double precision AS secs
        ) AS base ON pc.cal IS NOT NULL
    )
    INSERT INTO sag_sla_clocks AS k (sag_id, policy_id, calendar_id, first_response_at, response_due_at,
                                     response_warn_at, resolution_due_at, resolution_warn_at, paused_minutes,
                                     paused_since)
    SELECT x.id, x.policy_id, x.cal, x.responded, due.at[1], due.at[2], due.at[3], due.at[4], x.stopped, x.paused_since
    FROM computed x
    -- The four instants (response due and warn, resolution due and warn) where the calendar's
    -- open-time total reaches the target: the first span whose running total gets there.
    -- open_after is whole seconds: compared with ceil() of the target, the index applies.
    LEFT JOIN LATERAL (
        SELECT array_agg((SELECT s.start_at + make_interval(secs => t.secs - s.open_before)
                          FROM sag_calendar_spans s
                          WHERE s.calendar_id = x.cal AND s.open_after >= ceil(t.secs)::bigint
                          ORDER BY s.open_after LIMIT 1) ORDER BY t.n) AS at
        FROM unnest(ARRAY[x.base + x.response_minutes::double precision * 60,
                          x.base + (x.response_minutes * x.warning_percent / 100.0)::double precision * 60,
                          x.base + (x.resolution_minutes + x.stopped) * 60,
                          x.base + (x.resolution_minutes * x.warning_percent / 100.0 + x.stopped) * 60])
             WITH ORDINALITY AS t(secs, n)
    ) AS due ON x.cal IS NOT NULL
    ON CONFLICT (sag_id) DO UPDATE SET policy_id = EXCLUDED.policy_id, calendar_id = EXCLUDED.calendar_id,
        first_response_at = EXCLUDED.first_response_at, response_due_at = EXCLUDED.response_due_at,
        response_warn_at = EXCLUDED.response_warn_at, resolution_due_at = EXCLUDED.resolution_due_at,
        resolution_warn_at = EXCLUDED.resolution_warn_at, paused_minutes = EXCLUDED.paused_minutes,
        paused_since = EXCLUDED.paused_since
    WHERE (k.policy_id, k.calendar_id, k.first_response_at, k.response_due_at, k.response_warn_at,
           k.resolution_due_at, k.resolution_warn_at, k.paused_minutes, k.paused_since)
          IS DISTINCT FROM
          (EXCLUDED.policy_id, EXCLUDED.calendar_id, EXCLUDED.first_response_at, EXCLUDED.response_due_at,
           EXCLUDED.response_warn_at, EXCLUDED.resolution_due_at, EXCLUDED.resolution_warn_at,
           EXCLUDED.paused_minutes, EXCLUDED.paused_since);
$$;
