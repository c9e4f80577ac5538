-- The conversation on a case: notes (plain text with @mentions), their earlier texts, and who
-- watches a case. Rows are soft-deleted so the timeline can say "deleted by ... at ...".

CREATE TABLE sag_notes (
    id          BIGSERIAL PRIMARY KEY,
    sag_id      INTEGER NOT NULL REFERENCES sag_sager(id) ON DELETE CASCADE,
    author_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    body        TEXT NOT NULL CHECK (btrim(body) <> '' AND length(body) <= 20000),
    -- Where the note came from: the page or API, or a reply to a notification e-mail.
    via         VARCHAR(8) NOT NULL DEFAULT 'web' CHECK (via IN ('web', 'api', 'email')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    edited_at   TIMESTAMPTZ,
    edited_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    deleted_at  TIMESTAMPTZ,
    deleted_by  INTEGER REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX sag_notes_case_idx ON sag_notes (sag_id, created_at, id);

-- One row per edit: the text the note had before that edit.
CREATE TABLE sag_note_revisions (
    id          BIGSERIAL PRIMARY KEY,
    note_id     BIGINT NOT NULL REFERENCES sag_notes(id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    edited_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    edited_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sag_note_revisions_note_idx ON sag_note_revisions (note_id, edited_at);

-- Who follows a case. Rows are added automatically (assignee, creator, note authors, mentioned
-- users) unless the user unwatched the case: `unwatched` keeps that choice so the automatic
-- paths do not re-add them.
CREATE TABLE sag_watchers (
    sag_id      INTEGER NOT NULL REFERENCES sag_sager(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    unwatched   BOOLEAN NOT NULL DEFAULT FALSE,
    reason      VARCHAR(16) NOT NULL CHECK (reason IN ('manual', 'assignee', 'creator', 'note', 'mention')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (sag_id, user_id)
);
CREATE INDEX sag_watchers_user_idx ON sag_watchers (user_id) WHERE NOT unwatched;
