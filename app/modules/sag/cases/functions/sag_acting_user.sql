-- The acting user reaches triggers through the transaction-local setting bmc.user_id
-- (set by app.core.database); NULL when the change comes from psql or a script.
CREATE OR REPLACE FUNCTION sag_acting_user() RETURNS INTEGER
LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('bmc.user_id', true), '')::integer
$$;
