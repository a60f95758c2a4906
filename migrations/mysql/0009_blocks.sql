-- 0009: who blocks whom. While a row exists the blocked user's friend requests stay unseen by
-- the blocker, and their messages to and group invitations of the blocker are refused.
CREATE TABLE blocks (
    blocker_id BIGINT NOT NULL,             -- who blocks
    blocked_id BIGINT NOT NULL,             -- who is blocked
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    FOREIGN KEY (blocker_id) REFERENCES users(id) ON DELETE CASCADE,
    FOREIGN KEY (blocked_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
