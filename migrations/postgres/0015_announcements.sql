-- 0015: group announcements. A group's owner or an admin may pin a notice at the top of
-- its chat: its text, who set it and when (milliseconds); all NULL when none is set
-- (docs/api.md, "Groups").
ALTER TABLE conversations ADD COLUMN announcement TEXT NULL;
ALTER TABLE conversations ADD COLUMN announcement_by BIGINT NULL;
ALTER TABLE conversations ADD COLUMN announcement_at BIGINT NULL;
