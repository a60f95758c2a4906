-- 0013: messages a user deleted for themselves ("delete for me"). History leaves them out for
-- that user alone; the other members still see them (docs/protocol.md, "Deleting messages").
-- A moderator's delete for everyone needs no table: it is a recall whose marker names who.
CREATE TABLE hidden_messages (
    user_id BIGINT NOT NULL,                -- who hid it
    conversation_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,                    -- the message's place in the conversation
    hidden_at BIGINT NOT NULL,              -- Unix milliseconds
    PRIMARY KEY (user_id, conversation_id, seq),
    FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
