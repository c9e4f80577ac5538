-- Replies by e-mail (`bmc-hub mail-in`).

-- name: read_reply_user
-- The user a reply address was made for: their address (the sender must match it) and whether they may still write.
SELECT id, email, active FROM users WHERE id = %(user_id)s;
