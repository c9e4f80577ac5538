-- name: read_preferences
-- The user's notification preferences with the user's time zone.
SELECT p.in_app_enabled, p.email_enabled, p.quiet_hours_start, p.quiet_hours_end,
       p.max_per_hour, p.trigger_overrides, p.updated_at, u.timezone
FROM user_notification_preferences p
JOIN users u ON u.id = p.user_id
WHERE p.user_id = %(user_id)s;

-- name: ensure_preferences
-- Recreate the defaults row should it have been deleted by hand.
INSERT INTO user_notification_preferences (user_id) VALUES (%(user_id)s) ON CONFLICT DO NOTHING;

-- name: update_preferences
-- Store every preference field at once.
UPDATE user_notification_preferences
SET in_app_enabled = %(in_app_enabled)s,
    email_enabled = %(email_enabled)s,
    quiet_hours_start = %(quiet_hours_start)s,
    quiet_hours_end = %(quiet_hours_end)s,
    max_per_hour = %(max_per_hour)s,
    trigger_overrides = %(trigger_overrides)s
WHERE user_id = %(user_id)s;

-- name: update_user_timezone
-- The user's time zone (shown times, "tomorrow 08:00", quiet hours).
UPDATE users SET timezone = %(timezone)s WHERE id = %(user_id)s AND timezone IS DISTINCT FROM %(timezone)s;
