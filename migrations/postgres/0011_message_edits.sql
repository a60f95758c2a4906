-- 0011: edited messages. An edit replaces the message's `content` (the new text, keeping a
-- reply's `reply_to`) and sets `edited_at`; a server-made text message with `edit_of`
-- carries the edit to the members in sequence like any message (docs/protocol.md, "Edit").
ALTER TABLE messages ADD COLUMN edited_at BIGINT NULL;  -- Unix milliseconds of the latest edit
