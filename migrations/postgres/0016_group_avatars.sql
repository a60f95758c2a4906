-- 0016: group avatars. A group's owner or an admin may give it a picture, kept like a
-- user's avatar: the file name under DATA_DIR/avatars, NULL when none is set
-- (docs/api.md, "Groups").
ALTER TABLE conversations ADD COLUMN avatar VARCHAR(64) NULL;
