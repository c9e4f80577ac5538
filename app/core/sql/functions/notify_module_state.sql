-- Tell every app process at once that a module was switched on or off.
CREATE OR REPLACE FUNCTION notify_module_state() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bmc_module_state', COALESCE(NEW.name, OLD.name));
    RETURN NULL;
END;
$$;
