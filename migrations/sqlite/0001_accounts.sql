-- Accounts and their login sessions. Timestamps are Unix milliseconds.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,          -- lower-case login name
    display_name TEXT NOT NULL,             -- the name others see
    password_hash TEXT NOT NULL,            -- argon2id PHC string
    avatar TEXT NULL,                       -- file name under DATA_DIR/avatars
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,            -- hex SHA-256 of the bearer token
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);
