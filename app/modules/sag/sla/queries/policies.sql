-- name: list_policies
-- Every policy with its scope's names and pause statuses, most specific scope first.
SELECT p.id, p.name, p.priority, p.customer_id, cu.name AS customer_name, p.response_minutes,
       p.resolution_minutes, p.warning_percent, p.calendar_id, ca.name AS calendar_name,
       ARRAY(SELECT ps.status FROM sag_sla_pause_statuses ps JOIN sag_statuses st ON st.key = ps.status
             WHERE ps.policy_id = p.id ORDER BY st.sort_order) AS pause_statuses,
       p.created_at, p.updated_at
FROM sag_sla_policies p
LEFT JOIN customers cu ON cu.id = p.customer_id
LEFT JOIN sag_calendars ca ON ca.id = p.calendar_id
WHERE p.id = %(id)s OR %(id)s IS NULL
ORDER BY (p.customer_id IS NULL), (p.priority IS NULL), lower(cu.name), p.priority, lower(p.name), p.id;

-- name: insert_policy
-- A new policy; its pause statuses follow.
INSERT INTO sag_sla_policies (name, priority, customer_id, response_minutes, resolution_minutes, warning_percent,
                              calendar_id)
VALUES (%(name)s, %(priority)s, %(customer_id)s, %(response_minutes)s, %(resolution_minutes)s, %(warning_percent)s,
        %(calendar_id)s)
RETURNING id;

-- name: update_policy
-- Replace a policy's fields.
UPDATE sag_sla_policies
SET name = %(name)s, priority = %(priority)s, customer_id = %(customer_id)s, response_minutes = %(response_minutes)s,
    resolution_minutes = %(resolution_minutes)s, warning_percent = %(warning_percent)s, calendar_id = %(calendar_id)s
WHERE id = %(id)s
RETURNING id;

-- name: delete_pause_statuses
-- Forget a policy's pause statuses before writing the new list.
DELETE FROM sag_sla_pause_statuses WHERE policy_id = %(id)s;

-- name: insert_pause_status
-- One status that pauses the policy's clock.
INSERT INTO sag_sla_pause_statuses (policy_id, status) VALUES (%(id)s, %(status)s);

-- name: delete_policy
-- Delete a policy (its pause statuses go with it).
DELETE FROM sag_sla_policies WHERE id = %(id)s RETURNING id;

-- name: statuses
-- Every case status with whether it closes a case, in workflow order.
SELECT key, label, label_da, is_closed FROM sag_statuses ORDER BY sort_order;

-- name: customer_exists
-- Whether the customer exists.
SELECT 1 FROM customers WHERE id = %(id)s;

-- name: calendar_exists
-- Whether the calendar exists.
SELECT 1 FROM sag_calendars WHERE id = %(id)s;

-- name: scope_holder
-- The policy that already has this scope, if any.
SELECT id, name FROM sag_sla_policies
WHERE priority IS NOT DISTINCT FROM %(priority)s AND customer_id IS NOT DISTINCT FROM %(customer_id)s
  AND id <> %(id)s;
