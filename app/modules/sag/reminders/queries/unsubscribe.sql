-- name: read_unsubscriber
-- The user an unsubscribe link was made for.
SELECT id, email, active FROM users WHERE id = %(user_id)s;

-- name: ensure_preferences
-- The user's preferences row (made with the defaults should it be missing).
INSERT INTO user_notification_preferences (user_id) VALUES (%(user_id)s) ON CONFLICT DO NOTHING;

-- name: switch_off_email
-- No more e-mail for this kind of reminder (the kind's other overrides stay).
UPDATE user_notification_preferences
SET trigger_overrides = jsonb_set(trigger_overrides, ARRAY[%(kind)s::text],
                                  COALESCE(trigger_overrides -> %(kind)s::text, '{}'::jsonb) || '{"email": false}'::jsonb)
WHERE user_id = %(user_id)s;
