-- 0010: what several nodes sharing this database need (NATS_URL; see docs/architecture.md,
-- "Several nodes").
--
-- Message ids: each node reserves a block of ids by moving `next_id` forward in a short
-- transaction of its own, then hands the block out from memory, so ids never collide across
-- nodes. A node alone does not use it: it starts from the largest id stored, and a cluster
-- node reserving a block starts past that too. One row, id 1.
CREATE TABLE message_id_blocks (
    id INTEGER NOT NULL PRIMARY KEY,
    next_id BIGINT NOT NULL                 -- the first id no node has reserved yet
) ENGINE=InnoDB;
INSERT INTO message_id_blocks (id, next_id) VALUES (1, 1);
