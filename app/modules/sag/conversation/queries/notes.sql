-- Notes on a case: add, edit (keeping the earlier text), soft delete, list.

-- name: read_actor
-- The acting user's role and whether they may still act (deactivated users may not write).
SELECT id, role, active FROM users WHERE id = %(user_id)s;

-- name: read_case_ref
-- Whether the case exists (a note needs one).
SELECT id, created_by FROM sag_sager WHERE id = %(case_id)s;

-- name: insert_note
-- A new note; the sag_notes trigger bumps the case's updated_at.
INSERT INTO sag_notes (sag_id, author_id, body, via)
VALUES (%(case_id)s, %(author_id)s, %(body)s, %(via)s)
RETURNING *;

-- name: lock_note
-- The note about to be edited or deleted, locked so two edits keep both earlier texts.
SELECT * FROM sag_notes WHERE id = %(note_id)s FOR UPDATE;

-- name: insert_revision
-- The text a note had before this edit.
INSERT INTO sag_note_revisions (note_id, body, edited_by) VALUES (%(note_id)s, %(body)s, %(editor_id)s);

-- name: update_note_body
-- The new text of a note, with who edited it and when.
UPDATE sag_notes SET body = %(body)s, edited_at = now(), edited_by = %(editor_id)s
WHERE id = %(note_id)s RETURNING *;

-- name: soft_delete_note
-- Marks a note deleted; the text stays in the table (and its revisions) but is never shown.
UPDATE sag_notes SET deleted_at = now(), deleted_by = %(user_id)s
WHERE id = %(note_id)s RETURNING *;

-- name: list_revisions
-- The earlier texts of a note, oldest first.
SELECT r.id, r.body, r.edited_at, r.edited_by, u.full_name AS edited_by_name
FROM sag_note_revisions r LEFT JOIN users u ON u.id = r.edited_by
WHERE r.note_id = %(note_id)s ORDER BY r.edited_at, r.id;

-- name: list_notes
-- A case's notes oldest first, with author names; deleted ones without their text.
SELECT n.id, n.sag_id, n.author_id, a.username AS author_username,
       COALESCE(NULLIF(a.full_name, ''), a.username) AS author_name,
       CASE WHEN n.deleted_at IS NULL THEN n.body END AS body, n.via, n.created_at,
       n.edited_at, n.edited_by, COALESCE(NULLIF(e.full_name, ''), e.username) AS edited_by_name,
       n.deleted_at, n.deleted_by, COALESCE(NULLIF(d.full_name, ''), d.username) AS deleted_by_name,
       (SELECT count(*) FROM sag_note_revisions r WHERE r.note_id = n.id) AS revision_count
FROM sag_notes n
LEFT JOIN users a ON a.id = n.author_id
LEFT JOIN users e ON e.id = n.edited_by
LEFT JOIN users d ON d.id = n.deleted_by
WHERE n.sag_id = %(case_id)s
ORDER BY n.created_at, n.id;

-- name: read_note
-- One note as the API shows it (the list's row shape).
SELECT n.id, n.sag_id, n.author_id, a.username AS author_username,
       COALESCE(NULLIF(a.full_name, ''), a.username) AS author_name,
       CASE WHEN n.deleted_at IS NULL THEN n.body END AS body, n.via, n.created_at,
       n.edited_at, n.edited_by, COALESCE(NULLIF(e.full_name, ''), e.username) AS edited_by_name,
       n.deleted_at, n.deleted_by, COALESCE(NULLIF(d.full_name, ''), d.username) AS deleted_by_name,
       (SELECT count(*) FROM sag_note_revisions r WHERE r.note_id = n.id) AS revision_count
FROM sag_notes n
LEFT JOIN users a ON a.id = n.author_id
LEFT JOIN users e ON e.id = n.edited_by
LEFT JOIN users d ON d.id = n.deleted_by
WHERE n.id = %(note_id)s;
