-- name: read_destination_channels
-- The destinations a batch or a rule names, by slug, with their sealed URLs (for the channel).
SELECT id, slug, name, url_sealed, url_scheme, url_host
FROM sag_destinations
WHERE slug = ANY (%(slugs)s::text[])
ORDER BY slug;

-- name: list_destinations
-- Every destination (or one) for the pages and the API, with the rules that name it; never the URL.
SELECT d.id, d.name, d.slug, 'dest:' || d.slug AS channel, d.url_scheme, d.url_host, d.created_at, d.updated_at,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('id', r.id, 'name', r.name) ORDER BY r.id)
                 FROM sag_reminders r WHERE ('dest:' || d.slug) = ANY (r.channels)), '[]'::jsonb) AS rules
FROM sag_destinations d
WHERE d.id = %(id)s OR %(id)s IS NULL
ORDER BY lower(d.name), d.id;

-- name: read_sealed_url
-- One destination's sealed URL (to send a test message).
SELECT id, slug, name, url_sealed, url_scheme, url_host FROM sag_destinations WHERE id = %(id)s;

-- name: insert_destination
-- A new destination.
INSERT INTO sag_destinations (name, slug, url_sealed, url_scheme, url_host)
VALUES (%(name)s, %(slug)s, %(url_sealed)s, %(url_scheme)s, %(url_host)s)
RETURNING id;

-- name: update_destination
-- Rename a destination and, when a new URL was given, replace the URL (the slug stays: rules name it).
UPDATE sag_destinations
SET name = %(name)s,
    url_sealed = COALESCE(%(url_sealed)s, url_sealed),
    url_scheme = COALESCE(%(url_scheme)s, url_scheme),
    url_host = COALESCE(%(url_host)s, url_host)
WHERE id = %(id)s
RETURNING id;

-- name: lock_destination
-- The destination to delete, locked, with the rules that still name it.
SELECT d.id, d.slug,
       ARRAY(SELECT r.name FROM sag_reminders r WHERE ('dest:' || d.slug) = ANY (r.channels) ORDER BY r.id) AS rules
FROM sag_destinations d WHERE d.id = %(id)s FOR UPDATE;

-- name: delete_destination
-- Remove a destination (its log rows stay, under its channel name).
DELETE FROM sag_destinations WHERE id = %(id)s;

-- name: recent_deliveries
-- The destination's latest log rows: what went out, what failed and why.
SELECT l.id, l.event_id, l.status, l.error, l.title, l.sag_id, l.created_at, l.sent_at, l.updated_at,
       r.name AS rule_name
FROM sag_reminder_logs l LEFT JOIN sag_reminders r ON r.id = l.rule_id
WHERE l.channel LIKE 'dest:%%' AND l.channel = %(channel)s
ORDER BY l.id DESC
LIMIT %(limit)s;
