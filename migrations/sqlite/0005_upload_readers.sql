-- 0005: who may read a sent file: the members who can see a message carrying it.

-- 1. The conversation's last sequence number when the upload was last sent there. Every
--    message carrying it comes after, so the members whose `joined_seq` is at most this see
--    one; members who joined later do not (their history starts after their joining). NULL
--    while the upload is not sent.
ALTER TABLE uploads ADD COLUMN sent_after_seq BIGINT NULL;

-- 2. Uploads sent before this column: their conversation's last sequence number now, so that
--    everyone who is a member now keeps reading them.
UPDATE uploads
SET sent_after_seq = COALESCE(
    (SELECT MAX(messages.seq) FROM messages WHERE messages.conversation_id = uploads.conversation_id), 0)
WHERE conversation_id IS NOT NULL;
