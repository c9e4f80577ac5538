-- name: sla_report
-- Per creation month (in zone %(tz)s) and customer, plus per month and overall (GROUPING SETS):
-- cases with an SLA clock, response and resolution met / breached / pending at %(now)s, and the
-- median and p90 working minutes to first response and to resolution (paused time not counted).
WITH judged AS (
    SELECT date_trunc('month', s.created_at AT TIME ZONE %(tz)s)::date AS month, s.customer_id,
           CASE WHEN COALESCE(k.first_response_at, s.closed_at, %(now)s) > k.response_due_at THEN 'breached'
                WHEN k.first_response_at IS NOT NULL OR s.closed_at IS NOT NULL THEN 'met'
                ELSE 'pending' END AS response,
           CASE WHEN COALESCE(s.closed_at, k.paused_since, %(now)s) > k.resolution_due_at THEN 'breached'
                WHEN s.closed_at IS NOT NULL THEN 'met'
                ELSE 'pending' END AS resolution,
           greatest(0, sag_working_minutes_between(k.calendar_id, s.created_at, k.first_response_at)) AS to_response,
           CASE WHEN s.closed_at IS NOT NULL
                THEN greatest(0, sag_working_minutes_between(k.calendar_id, s.created_at, s.closed_at) - k.paused_minutes)
           END AS to_resolution
    FROM sag_sager s
    JOIN sag_sla_clocks k ON k.sag_id = s.id
    WHERE k.response_due_at IS NOT NULL AND k.resolution_due_at IS NOT NULL
      AND s.created_at >= (%(start)s::timestamp AT TIME ZONE %(tz)s)
      AND s.created_at < (%(end)s::timestamp AT TIME ZONE %(tz)s)
      AND (%(customer_id)s::integer IS NULL OR s.customer_id = %(customer_id)s::integer)
)
SELECT j.month, j.customer_id, c.name AS customer_name,
       GROUPING(j.customer_id) = 1 AS all_customers, GROUPING(j.month) = 1 AS all_months,
       count(*) AS cases,
       count(*) FILTER (WHERE j.response = 'met') AS response_met,
       count(*) FILTER (WHERE j.response = 'breached') AS response_breached,
       count(*) FILTER (WHERE j.response = 'pending') AS response_pending,
       count(*) FILTER (WHERE j.resolution = 'met') AS resolution_met,
       count(*) FILTER (WHERE j.resolution = 'breached') AS resolution_breached,
       count(*) FILTER (WHERE j.resolution = 'pending') AS resolution_pending,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY j.to_response) AS response_median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY j.to_response) AS response_p90,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY j.to_resolution) AS resolution_median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY j.to_resolution) AS resolution_p90
FROM judged j
LEFT JOIN customers c ON c.id = j.customer_id
GROUP BY GROUPING SETS ((j.month, j.customer_id, c.name), (j.month), ())
ORDER BY j.month NULLS LAST, GROUPING(j.customer_id) DESC, lower(c.name) NULLS LAST, j.customer_id;

-- name: report_customers
-- Customers that have cases with an SLA clock (the report's customer filter).
SELECT c.id, c.name FROM customers c
WHERE EXISTS (SELECT 1 FROM sag_sager s JOIN sag_sla_clocks k ON k.sag_id = s.id
              WHERE s.customer_id = c.id AND k.response_due_at IS NOT NULL)
ORDER BY lower(c.name), c.id;

-- name: db_now
-- The database's clock (the report judges open cases at this instant).
SELECT now() AS now;
