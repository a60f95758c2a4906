-- 0014: forwarded messages. A forward stores a copy of a message in another conversation;
-- `forwarded_from` names whose message it first was, as the JSON of a `Forwarded`
-- ({"user_id":3,"name":"Ann"}), NULL for a message that is not a forward
-- (docs/protocol.md, "Forwarding").
ALTER TABLE messages ADD COLUMN forwarded_from TEXT NULL;
