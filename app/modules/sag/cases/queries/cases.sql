-- name: search_cases
-- One page of cases matching the filters ({where} and {order} are composed from fixed fragments);
-- the page's ids are found first, so names and flags are computed for those rows only.
WITH page AS (
    SELECT s.id
    FROM sag_sager s
    JOIN sag_statuses st ON st.key = s.status
    WHERE {where}
    ORDER BY {order}
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT s.id, s.title, s.status, st.label AS status_label, st.label_da AS status_label_da, st.is_closed, s.priority,
       s.customer_id, c.name AS customer_name,
       s.assigned_to, COALESCE(NULLIF(au.full_name, ''), au.username) AS assignee_name,
       s.created_by, s.deadline, s.closed_at, s.version, s.created_at, s.updated_at,
       (s.closed_at IS NULL AND s.deadline < now()) AS is_overdue,
       (s.closed_at IS NULL AND s.deadline >= now()
        AND s.deadline < now() + make_interval(hours => %(due_soon_hours)s)) AS is_due_soon,
       sla.*
FROM page p
JOIN sag_sager s ON s.id = p.id
JOIN sag_statuses st ON st.key = s.status
LEFT JOIN customers c ON c.id = s.customer_id
LEFT JOIN users au ON au.id = s.assigned_to
LEFT JOIN LATERAL sag_sla_case(s.id, now()) AS sla ON TRUE
ORDER BY {order};

-- name: count_cases
-- How many cases match the filters, counting no further than %(cap)s.
SELECT count(*) AS n FROM (SELECT 1 FROM sag_sager s WHERE {where} LIMIT %(cap)s) AS capped;

-- name: estimate_cases
-- The planner's estimate of how many cases match the filters (EXPLAIN only: nothing is read).
EXPLAIN (FORMAT JSON) SELECT 1 FROM sag_sager s WHERE {where};

-- name: read_case
-- One case with its status, customer, assignee and creator names, and its SLA clock.
SELECT s.id, s.title, s.description, s.status, st.label AS status_label, st.label_da AS status_label_da, st.is_closed, s.priority,
       s.customer_id, c.name AS customer_name,
       s.assigned_to, COALESCE(NULLIF(au.full_name, ''), au.username) AS assignee_name,
       s.created_by, COALESCE(NULLIF(cu.full_name, ''), cu.username) AS creator_name,
       s.deadline, s.closed_at, s.version, s.created_at, s.updated_at,
       (s.closed_at IS NULL AND s.deadline < now()) AS is_overdue,
       (s.closed_at IS NULL AND s.deadline >= now()
        AND s.deadline < now() + make_interval(hours => %(due_soon_hours)s)) AS is_due_soon,
       sla.*
FROM sag_sager s
JOIN sag_statuses st ON st.key = s.status
LEFT JOIN customers c ON c.id = s.customer_id
LEFT JOIN users au ON au.id = s.assigned_to
LEFT JOIN users cu ON cu.id = s.created_by
LEFT JOIN LATERAL sag_sla_case(s.id, now()) AS sla ON TRUE
WHERE s.id = %(id)s;

-- name: read_case_version
-- The current version, status and assignee of a case (to tell "not found" from "stale").
SELECT id, version, status, assigned_to FROM sag_sager WHERE id = %(id)s;

-- name: read_history
-- A case's status history, oldest first, with the names of the people who changed it.
SELECT h.id, h.sag_id, h.from_status, fs.label AS from_label, fs.label_da AS from_label_da, h.to_status, ts.label AS to_label, ts.label_da AS to_label_da,
       h.changed_by, COALESCE(NULLIF(u.full_name, ''), u.username) AS changed_by_name,
       h.note, h.changed_at
FROM sag_status_history h
LEFT JOIN sag_statuses fs ON fs.key = h.from_status
JOIN sag_statuses ts ON ts.key = h.to_status
LEFT JOIN users u ON u.id = h.changed_by
WHERE h.sag_id = %(id)s
ORDER BY h.changed_at, h.id;

-- name: list_statuses
-- Every status in display order.
SELECT key, label, label_da, sort_order, is_closed FROM sag_statuses ORDER BY sort_order, key;

-- name: create_case
-- Insert a case (the triggers write the first history row and closed_at) and return its id.
INSERT INTO sag_sager (title, description, customer_id, status, priority, assigned_to, created_by, deadline)
VALUES (%(title)s, %(description)s, %(customer_id)s, %(status)s, %(priority)s, %(assigned_to)s,
        %(created_by)s, %(deadline)s)
RETURNING id;

-- name: set_status_note
-- Hand the reason for a status change to the history trigger (this transaction only).
SELECT set_config('sag.status_note', %(note)s, true);

-- name: change_status
-- Move a case to another status if it is still at the expected version/status.
UPDATE sag_sager SET status = %(status)s
WHERE id = %(id)s AND status <> %(status)s
  AND (%(version)s::integer IS NULL OR version = %(version)s::integer)
  AND (%(expected_status)s::text IS NULL OR status = %(expected_status)s::text)
RETURNING id, version, status, closed_at, updated_at;

-- name: assign_case
-- Set (or clear) the assignee if the case is still at the expected version.
UPDATE sag_sager SET assigned_to = %(user_id)s
WHERE id = %(id)s AND (%(version)s::integer IS NULL OR version = %(version)s::integer)
RETURNING id, version;

-- name: delete_case
-- Delete a case (its history goes with it).
DELETE FROM sag_sager WHERE id = %(id)s;

-- name: read_user_ref
-- Whether a user exists and is active (for assignment checks).
SELECT id, active FROM users WHERE id = %(id)s;

-- name: read_customer_ref
-- Whether a customer exists.
SELECT id, active FROM customers WHERE id = %(id)s;

-- name: list_assignable_users
-- Active users for assignee pickers, by name, plus the current assignee even if deactivated.
SELECT id, username, COALESCE(NULLIF(full_name, ''), username) AS name, active
FROM users WHERE active OR id = %(include_id)s
ORDER BY lower(COALESCE(NULLIF(full_name, ''), username)), id;

-- name: list_customer_choices
-- Customers for pickers: active ones plus the one already chosen.
SELECT id, name, active FROM customers
WHERE active OR id = %(include_id)s
ORDER BY lower(name), id;

-- name: customer_case_summary
-- Open/closed/overdue counts of one customer's cases.
SELECT count(*) FILTER (WHERE closed_at IS NULL) AS open,
       count(*) FILTER (WHERE closed_at IS NOT NULL) AS closed,
       count(*) FILTER (WHERE closed_at IS NULL AND deadline < now()) AS overdue
FROM sag_sager WHERE customer_id = %(customer_id)s;

-- name: my_case_counts
-- The user's open, overdue and due-soon cases, plus unassigned open cases (dashboard).
SELECT count(*) FILTER (WHERE assigned_to = %(user_id)s) AS open,
       count(*) FILTER (WHERE assigned_to = %(user_id)s AND deadline < now()) AS overdue,
       count(*) FILTER (WHERE assigned_to = %(user_id)s AND deadline >= now()
                        AND deadline < now() + make_interval(hours => %(due_soon_hours)s)) AS due_soon,
       count(*) FILTER (WHERE assigned_to IS NULL) AS unassigned
FROM sag_sager
WHERE closed_at IS NULL AND (assigned_to = %(user_id)s OR assigned_to IS NULL);
