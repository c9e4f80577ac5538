-- name: read_items
-- Every item, newest first.
SELECT id, name FROM webshop_items ORDER BY id DESC LIMIT %(limit)s;

-- name: create_item
-- A new item; returns its id.
INSERT INTO webshop_items (name) VALUES (%(name)s) RETURNING id;

-- name: read_customers
-- The module's customers with the core customer each is linked to (NULL when not linked yet).
SELECT mc.id, mc.name, mc.external_id, mc.active, mc.hub_customer_id, c.name AS hub_customer_name,
       mc.created_at
FROM webshop_customers mc
LEFT JOIN customers c ON c.id = mc.hub_customer_id
ORDER BY mc.name, mc.id
LIMIT %(limit)s;

-- name: read_customer
-- One of the module's customers with its link.
SELECT mc.id, mc.name, mc.external_id, mc.active, mc.hub_customer_id, c.name AS hub_customer_name,
       mc.created_at
FROM webshop_customers mc
LEFT JOIN customers c ON c.id = mc.hub_customer_id
WHERE mc.id = %(id)s;

-- name: create_customer
-- A new customer of the module; the auto-link trigger fills hub_customer_id.
INSERT INTO webshop_customers (name, external_id) VALUES (%(name)s, %(external_id)s) RETURNING id;
