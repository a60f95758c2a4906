-- Accounts and their login sessions. Timestamps are Unix milliseconds.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username VARCHAR(32) NOT NULL UNIQUE,   -- lower-case login name
    display_name VARCHAR(64) NOT NULL,      -- the name others see
    password_hash VARCHAR(255) NOT NULL,    -- argon2id PHC string
    avatar VARCHAR(64) NULL,                -- file name under DATA_DIR/avatars
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash CHAR(64) PRIMARY KEY,        -- hex SHA-256 of the bearer token
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);
