-- name: search_customers
-- One page of customers matching an optional text search (pattern: %q% with wildcards escaped) and active filter.
SELECT id, name, cvr_number, email, phone, address, postal_code, city, economic_customer_number,
       notes, active, created_at, updated_at, count(*) OVER () AS total
FROM customers
WHERE (%(q)s::text IS NULL
       OR name ILIKE %(pattern)s
       OR cvr_number = %(q)s
       OR email ILIKE %(pattern)s
       OR city ILIKE %(pattern)s)
  AND (%(active)s::boolean IS NULL OR active = %(active)s)
ORDER BY {order}
LIMIT %(limit)s OFFSET %(offset)s;

-- name: read_customer
-- One customer by id.
SELECT id, name, cvr_number, email, phone, address, postal_code, city, economic_customer_number,
       notes, active, created_at, updated_at
FROM customers WHERE id = %(id)s;

-- name: create_customer
-- Insert a customer and return it.
INSERT INTO customers (name, cvr_number, email, phone, address, postal_code, city,
                       economic_customer_number, notes, active)
VALUES (%(name)s, %(cvr_number)s, %(email)s, %(phone)s, %(address)s, %(postal_code)s, %(city)s,
        %(economic_customer_number)s, %(notes)s, %(active)s)
RETURNING id;

-- name: delete_customer
-- Delete a customer (fails if other rows still reference it).
DELETE FROM customers WHERE id = %(id)s;

-- name: count_customers
-- Active and total customer counts for the dashboard.
SELECT count(*) FILTER (WHERE active) AS active, count(*) AS total FROM customers;
