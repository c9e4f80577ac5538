-- name: read_user_for_login
-- The user with this username or e-mail, with the password hash (active or not).
SELECT id, username, email, full_name, role, active, timezone, password_hash
FROM users
WHERE lower(username) = lower(%(login)s) OR lower(email) = lower(%(login)s)
ORDER BY lower(username) = lower(%(login)s) DESC
LIMIT 1;

-- name: count_recent_failures
-- Failed logins for this username and for this IP inside the throttle window.
SELECT
    count(*) FILTER (WHERE lower(username) = lower(%(username)s)) AS by_username,
    count(*) FILTER (WHERE ip = %(ip)s) AS by_ip,
    max(created_at) AS last_failure
FROM login_attempts
WHERE NOT succeeded
  AND created_at > now() - make_interval(secs => %(window_s)s)
  AND (lower(username) = lower(%(username)s) OR ip = %(ip)s);

-- name: record_login_attempt
-- Remember one login attempt (successful or not) for throttling.
INSERT INTO login_attempts (username, ip, succeeded) VALUES (left(%(username)s, 254), %(ip)s, %(succeeded)s);

-- name: clear_failures
-- A successful login forgets the user's earlier failures.
DELETE FROM login_attempts WHERE lower(username) = lower(%(username)s) AND NOT succeeded;

-- name: prune_login_attempts
-- Drop attempts older than a day.
DELETE FROM login_attempts WHERE created_at < now() - interval '1 day';

-- name: touch_last_login
-- Stamp the user's last login time.
UPDATE users SET last_login_at = now() WHERE id = %(user_id)s;

-- name: create_session
-- Store a new session by the hash of its cookie value.
INSERT INTO sessions (token_hash, user_id, csrf_token, user_agent, ip, expires_at)
VALUES (%(token_hash)s, %(user_id)s, %(csrf_token)s, left(%(user_agent)s, 300), %(ip)s,
        now() + make_interval(secs => %(max_age_s)s));

-- name: read_session_user
-- The live session and its active user, refreshing last_seen_at at most once a minute.
WITH s AS (
    UPDATE sessions SET last_seen_at = now()
    WHERE token_hash = %(token_hash)s AND expires_at > now() AND last_seen_at < now() - interval '1 minute'
    RETURNING token_hash
)
SELECT u.id, u.username, u.email, u.full_name, u.role, u.timezone, u.language, ss.csrf_token
FROM sessions ss JOIN users u ON u.id = ss.user_id
WHERE ss.token_hash = %(token_hash)s AND ss.expires_at > now() AND u.active;

-- name: delete_session
-- Log out: forget this session.
DELETE FROM sessions WHERE token_hash = %(token_hash)s;

-- name: delete_user_sessions
-- Forget every session of a user (deactivation, password change).
DELETE FROM sessions WHERE user_id = %(user_id)s;

-- name: prune_sessions
-- Drop expired sessions.
DELETE FROM sessions WHERE expires_at < now();

-- name: read_token_user
-- The active user owning a live API token, stamping its last use at most once a minute.
WITH live AS (
    SELECT id, user_id, last_used_at FROM api_tokens
    WHERE token_hash = %(token_hash)s AND revoked_at IS NULL
      AND (expires_at IS NULL OR expires_at > now())
), stamp AS (
    -- Stamping on every call would serialise parallel requests on the token's row lock.
    UPDATE api_tokens SET last_used_at = now()
    FROM live
    WHERE api_tokens.id = live.id
      AND (live.last_used_at IS NULL OR live.last_used_at < now() - interval '1 minute')
)
SELECT u.id, u.username, u.email, u.full_name, u.role, u.timezone, u.language
FROM live JOIN users u ON u.id = live.user_id
WHERE u.active;

-- name: create_token
-- Store a new API token by its hash.
INSERT INTO api_tokens (user_id, name, token_prefix, token_hash, expires_at)
VALUES (%(user_id)s, %(name)s, %(token_prefix)s, %(token_hash)s, %(expires_at)s)
RETURNING id;

-- name: list_tokens
-- A user's tokens (never the secret), newest first.
SELECT id, name, token_prefix, created_at, last_used_at, expires_at, revoked_at
FROM api_tokens WHERE user_id = %(user_id)s ORDER BY created_at DESC;

-- name: revoke_token
-- Revoke one of a user's tokens.
UPDATE api_tokens SET revoked_at = now() WHERE id = %(id)s AND user_id = %(user_id)s AND revoked_at IS NULL;
