-- Conversations: one per pair of friends (kind 'direct') and one per group (kind 'group').
-- A group's id is its conversation's id. Two people are friends while both are members of
-- their direct conversation.
CREATE TABLE conversations (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind VARCHAR(16) NOT NULL,              -- 'direct' or 'group'
    direct_key VARCHAR(48) NULL UNIQUE,     -- 'SMALLER_ID:LARGER_ID' for direct conversations
    name VARCHAR(64) NULL,                  -- group name
    description TEXT NULL,                  -- group description
    owner_id BIGINT NULL,                   -- group owner
    dissolved BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    INDEX conversations_by_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Who belongs to which conversation, with their role and read cursors.
CREATE TABLE members (
    conversation_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    role VARCHAR(16) NOT NULL,              -- 'owner', 'admin' or 'member'
    muted BOOLEAN NOT NULL DEFAULT FALSE,   -- no sound or badge for this conversation
    joined_seq BIGINT NOT NULL DEFAULT 0,   -- history visible after this sequence number
    delivered_seq BIGINT NOT NULL DEFAULT 0,
    read_seq BIGINT NOT NULL DEFAULT 0,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, user_id),
    INDEX members_by_user (user_id),
    FOREIGN KEY (conversation_id) REFERENCES conversations(id) ON DELETE CASCADE,
    FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Pending friend requests; answered ones are deleted.
CREATE TABLE friend_requests (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    from_id BIGINT NOT NULL,
    to_id BIGINT NOT NULL,
    message TEXT NOT NULL,                  -- the verification message
    created_at BIGINT NOT NULL,
    UNIQUE (from_id, to_id),
    INDEX friend_requests_by_addressee (to_id),
    FOREIGN KEY (from_id) REFERENCES users(id) ON DELETE CASCADE,
    FOREIGN KEY (to_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Pending applications to join a group and invitations into one.
CREATE TABLE group_requests (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    group_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,                -- who would join
    kind VARCHAR(16) NOT NULL,              -- 'application' or 'invitation'
    inviter_id BIGINT NULL,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (group_id, user_id, kind),
    INDEX group_requests_by_user (user_id),
    FOREIGN KEY (group_id) REFERENCES conversations(id) ON DELETE CASCADE,
    FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    FOREIGN KEY (inviter_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
