-- Conversations: one per pair of friends (kind 'direct') and one per group (kind 'group').
-- A group's id is its conversation's id. Two people are friends while both are members of
-- their direct conversation.
CREATE TABLE conversations (
    id BIGSERIAL PRIMARY KEY,
    kind VARCHAR(16) NOT NULL,                     -- 'direct' or 'group'
    direct_key VARCHAR(48) NULL UNIQUE,            -- 'SMALLER_ID:LARGER_ID' for direct conversations
    name VARCHAR(64) NULL,                         -- group name
    description TEXT NULL,                  -- group description
    owner_id BIGINT NULL,                   -- group owner
    dissolved BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX conversations_by_name ON conversations(name);

-- Who belongs to which conversation, with their role and read cursors.
CREATE TABLE members (
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role VARCHAR(16) NOT NULL,                     -- 'owner', 'admin' or 'member'
    muted BOOLEAN NOT NULL DEFAULT FALSE,   -- no sound or badge for this conversation
    joined_seq BIGINT NOT NULL DEFAULT 0,   -- history visible after this sequence number
    delivered_seq BIGINT NOT NULL DEFAULT 0,
    read_seq BIGINT NOT NULL DEFAULT 0,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_by_user ON members(user_id);

-- Pending friend requests; answered ones are deleted.
CREATE TABLE friend_requests (
    id BIGSERIAL PRIMARY KEY,
    from_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    to_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    message TEXT NOT NULL,                  -- the verification message
    created_at BIGINT NOT NULL,
    UNIQUE (from_id, to_id)
);
CREATE INDEX friend_requests_by_addressee ON friend_requests(to_id);

-- Pending applications to join a group and invitations into one.
CREATE TABLE group_requests (
    id BIGSERIAL PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,  -- who would join
    kind VARCHAR(16) NOT NULL,                     -- 'application' or 'invitation'
    inviter_id BIGINT NULL REFERENCES users(id) ON DELETE CASCADE,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (group_id, user_id, kind)
);
CREATE INDEX group_requests_by_user ON group_requests(user_id);
