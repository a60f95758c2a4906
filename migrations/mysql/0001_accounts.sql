-- Accounts and their login sessions. Timestamps are Unix milliseconds.
CREATE TABLE users (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(32) NOT NULL UNIQUE,   -- lower-case login name
    display_name VARCHAR(64) NOT NULL,      -- the name others see
    password_hash VARCHAR(255) NOT NULL,    -- argon2id PHC string
    avatar VARCHAR(64) NULL,                -- file name under DATA_DIR/avatars
    created_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE sessions (
    token_hash CHAR(64) NOT NULL PRIMARY KEY, -- hex SHA-256 of the bearer token
    user_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    INDEX sessions_by_user (user_id),
    FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
