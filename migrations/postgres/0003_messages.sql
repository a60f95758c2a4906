-- Messages of every conversation. `id` and `seq` are allocated by the server's message
-- writer, which inserts in batches (one multi-row INSERT per commit). No foreign keys here:
-- the writer checks membership before it writes, and the hot path stays one statement.
CREATE TABLE messages (
    id BIGINT PRIMARY KEY,
    conversation_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,                    -- 1, 2, 3, ... within the conversation
    sender_id BIGINT NULL,                  -- NULL for server notices
    client_id VARCHAR(64) NULL,                    -- the sender's uuid for this message
    content TEXT NOT NULL,                  -- JSON of the content
    sent_at BIGINT NOT NULL,                -- Unix milliseconds, server time
    recalled BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (conversation_id, seq),
    UNIQUE (client_id, sender_id)          -- resend detection looks up by client_id
);
