-- webshop: first schema. Every table starts with the table_prefix "webshop_";
-- every function carries the module name.

-- Plain module data.
CREATE TABLE webshop_items (
    id SERIAL PRIMARY KEY,
    name VARCHAR(255)
);

-- The module's own customers (e.g. synced from an external system), always linked to the
-- hub's customers. ON DELETE SET NULL: deleting a hub customer unlinks, never blocks.
CREATE TABLE webshop_customers (
    id SERIAL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    external_id VARCHAR(100),                                            -- id in the external system
    hub_customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL, -- IMPORTANT!
    active BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX webshop_customers_hub_idx ON webshop_customers (hub_customer_id);
CREATE INDEX webshop_customers_unlinked_idx ON webshop_customers (lower(btrim(name)))
    WHERE hub_customer_id IS NULL;

-- The hub customer whose name equals `customer_name` (case-insensitive, trimmed), when
-- exactly one does; NULL when none or several do (an ambiguous name is not guessed).
CREATE OR REPLACE FUNCTION webshop_match_hub_customer(customer_name TEXT) RETURNS INTEGER
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN count(*) = 1 THEN min(id) END
      FROM customers
     WHERE lower(btrim(name)) = lower(btrim(customer_name))
$$;

-- Auto-link on insert and on rename. A link given explicitly on insert is kept; a rename
-- to a name with no (unique) hub match keeps the existing link rather than dropping it.
CREATE OR REPLACE FUNCTION auto_link_webshop_customer() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    match_id INTEGER;
BEGIN
    IF TG_OP = 'INSERT' AND NEW.hub_customer_id IS NOT NULL THEN
        RETURN NEW;
    END IF;
    match_id := webshop_match_hub_customer(NEW.name);
    IF match_id IS NOT NULL THEN
        NEW.hub_customer_id := match_id;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER trigger_auto_link_webshop_customer
    BEFORE INSERT OR UPDATE OF name
    ON webshop_customers
    FOR EACH ROW
    EXECUTE FUNCTION auto_link_webshop_customer();

-- Later match: when a hub customer is created (or renamed) after the module's customer,
-- the still-unlinked module customers with that name are linked to it at once.
CREATE OR REPLACE FUNCTION webshop_link_new_hub_customer() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF webshop_match_hub_customer(NEW.name) = NEW.id THEN
        UPDATE webshop_customers SET hub_customer_id = NEW.id
         WHERE hub_customer_id IS NULL AND lower(btrim(name)) = lower(btrim(NEW.name));
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER trigger_webshop_link_new_hub_customer
    AFTER INSERT OR UPDATE OF name
    ON customers
    FOR EACH ROW
    EXECUTE FUNCTION webshop_link_new_hub_customer();

-- A simple customer relation: a direct foreign key to the hub's customers.
CREATE TABLE webshop_orders (
    id SERIAL PRIMARY KEY,
    customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL  -- direct link
);
