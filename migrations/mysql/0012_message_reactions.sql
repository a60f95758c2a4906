-- 0012: reactions on messages. One row per (message, user, emoji) that is on now; a
-- `react` inserts or deletes it, and a server-made text message with `reaction_of` carries
-- the change to the members in sequence like any message (docs/protocol.md, "Reactions").
-- History pages read the rows of their messages. No foreign keys, as for `messages`.
CREATE TABLE message_reactions (
    conversation_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,                    -- the message reacted to
    user_id BIGINT NOT NULL,
    emoji VARCHAR(64) NOT NULL,             -- one emoji, at most 64 bytes of UTF-8
    reacted_at BIGINT NOT NULL,             -- Unix milliseconds, server time
    UNIQUE (conversation_id, seq, user_id, emoji)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
