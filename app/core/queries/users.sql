-- name: list_users
-- Every user, admins first, then by username.
SELECT id, username, email, full_name, role, active, timezone, language, last_login_at, created_at, updated_at
FROM users ORDER BY active DESC, role, lower(username);

-- name: read_user
-- One user by id.
SELECT id, username, email, full_name, role, active, timezone, language, last_login_at, created_at, updated_at
FROM users WHERE id = %(id)s;

-- name: read_user_by_username
-- One user by username, case-insensitive.
SELECT id, username, email, full_name, role, active, timezone, language, last_login_at, created_at, updated_at
FROM users WHERE lower(username) = lower(%(username)s);

-- name: create_user
-- Insert a user and return the id.
INSERT INTO users (username, email, full_name, password_hash, role, active, timezone, language)
VALUES (%(username)s, %(email)s, %(full_name)s, %(password_hash)s, %(role)s, %(active)s, %(timezone)s, %(language)s)
RETURNING id;

-- name: count_other_active_admins
-- Active admins other than this user (the last admin may not be demoted or deactivated).
SELECT count(*) AS n FROM users WHERE role = 'admin' AND active AND id <> %(id)s;

-- name: count_admins
-- How many active admins exist.
SELECT count(*) AS n FROM users WHERE role = 'admin' AND active;

-- name: update_language
-- Set (or with NULL clear) the language a user reads the hub in.
UPDATE users SET language = %(language)s WHERE id = %(id)s;
