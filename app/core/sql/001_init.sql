-- Rewritten when its functions moved to function files (functions/*.sql); a database
-- that applied the earlier text below is up to date (see docs/development.md).
-- supersedes: 701e3fb0ede777a4619d0b660af6d376a9015a6905084be5ffa21592060f824c
-- Core schema: users, customers, notification preferences, sessions, API tokens,
-- login throttling and module state.

CREATE TABLE users (
    id              SERIAL PRIMARY KEY,
    username        VARCHAR(64)  NOT NULL CHECK (username ~ '^[A-Za-z0-9._@-]{2,64}$'),
    email           VARCHAR(254) NOT NULL,
    full_name       VARCHAR(200) NOT NULL DEFAULT '',
    password_hash   TEXT,
    role            VARCHAR(16)  NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
    active          BOOLEAN      NOT NULL DEFAULT TRUE,
    timezone        VARCHAR(64)  NOT NULL DEFAULT 'Europe/Copenhagen',
    last_login_at   TIMESTAMPTZ,
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_role_active_idx ON users (role) WHERE active;
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE customers (
    id                          SERIAL PRIMARY KEY,
    name                        VARCHAR(255) NOT NULL CHECK (btrim(name) <> ''),
    cvr_number                  VARCHAR(8) CHECK (cvr_number ~ '^[0-9]{8}$'),
    email                       VARCHAR(254),
    phone                       VARCHAR(40),
    address                     VARCHAR(255),
    postal_code                 VARCHAR(16),
    city                        VARCHAR(100),
    economic_customer_number    INTEGER CHECK (economic_customer_number > 0),
    notes                       TEXT NOT NULL DEFAULT '',
    active                      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at                  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX customers_cvr_key ON customers (cvr_number) WHERE cvr_number IS NOT NULL;
CREATE UNIQUE INDEX customers_economic_key ON customers (economic_customer_number)
    WHERE economic_customer_number IS NOT NULL;
-- Modules auto-link their own customer rows by name (case-insensitive, trimmed).
CREATE INDEX customers_name_norm_idx ON customers (lower(btrim(name)));
CREATE INDEX customers_name_idx ON customers (name);
CREATE TRIGGER customers_set_updated_at BEFORE UPDATE ON customers
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE user_notification_preferences (
    user_id             INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    in_app_enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    email_enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    quiet_hours_start   TIME,
    quiet_hours_end     TIME,
    -- NULL means the hub-wide default applies.
    max_per_hour        INTEGER CHECK (max_per_hour BETWEEN 1 AND 1000),
    -- {"deadline": {"in_app": true, "email": false}, ...}
    trigger_overrides   JSONB NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(trigger_overrides) = 'object'),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((quiet_hours_start IS NULL) = (quiet_hours_end IS NULL))
);
CREATE TRIGGER user_notification_preferences_set_updated_at BEFORE UPDATE ON user_notification_preferences
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Every user gets a preferences row with the defaults, however the user was created.
CREATE TRIGGER users_default_preferences AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION create_default_notification_preferences();

CREATE TABLE sessions (
    token_hash      TEXT PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token      TEXT NOT NULL,
    user_agent      VARCHAR(300) NOT NULL DEFAULT '',
    ip              VARCHAR(64) NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE TRIGGER sessions_set_updated_at BEFORE UPDATE ON sessions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE api_tokens (
    id              SERIAL PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name            VARCHAR(100) NOT NULL,
    token_prefix    VARCHAR(16) NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at    TIMESTAMPTZ,
    expires_at      TIMESTAMPTZ,
    revoked_at      TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);
CREATE TRIGGER api_tokens_set_updated_at BEFORE UPDATE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Append-only (never updated), so no updated_at.
CREATE TABLE login_attempts (
    id          BIGSERIAL PRIMARY KEY,
    username    VARCHAR(254) NOT NULL,
    ip          VARCHAR(64) NOT NULL,
    succeeded   BOOLEAN NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_username_idx ON login_attempts (lower(username), created_at);
CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, created_at);

-- An admin's enable/disable choice; module.json "enabled" applies when there is no row.
CREATE TABLE module_state (
    name        VARCHAR(64) PRIMARY KEY,
    enabled     BOOLEAN NOT NULL,
    changed_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TRIGGER module_state_set_updated_at BEFORE UPDATE ON module_state
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Tell every app process at once that a module was switched on or off.
CREATE TRIGGER module_state_notify AFTER INSERT OR UPDATE OR DELETE ON module_state
    FOR EACH ROW EXECUTE FUNCTION notify_module_state();
