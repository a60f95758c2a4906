-- 0009: who blocks whom. While a row exists the blocked user's friend requests stay unseen by
-- the blocker, and their messages to and group invitations of the blocker are refused.
CREATE TABLE blocks (
    blocker_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,  -- who blocks
    blocked_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,  -- who is blocked
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
