-- Every user gets a preferences row with the defaults, however the user was created.
CREATE OR REPLACE FUNCTION create_default_notification_preferences() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_notification_preferences (user_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NEW;
END;
$$;
