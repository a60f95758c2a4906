-- 0008: how each member's lists show a conversation, the same on every device of theirs:
-- pinned to the top, archived out of the main list, marked unread to come back to it.
ALTER TABLE members ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE members ADD COLUMN archived BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE members ADD COLUMN marked_unread BOOLEAN NOT NULL DEFAULT FALSE;
