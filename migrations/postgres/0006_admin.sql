-- 0006: what the operator's command line (`kith-server user ...`, `kith-server online`) needs.
-- Timestamps are Unix milliseconds.

-- 1. An account the operator disabled: logging in is refused with `account_disabled`, and
--    its sessions were deleted when it was disabled.
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;

-- 2. Presence as a lease, so that another process can see who is connected: a running server
--    stamps the sessions its sockets said hello with (`connected_at` once, `seen_at` again
--    every 20 s) and clears both when the last socket of the session closes. A server that
--    dies stops stamping, so its sessions drop out of `kith-server online` after 60 s.
ALTER TABLE sessions ADD COLUMN connected_at BIGINT NULL;
ALTER TABLE sessions ADD COLUMN seen_at BIGINT NULL;
CREATE INDEX sessions_by_seen ON sessions(seen_at);

-- 3. The operator's command line changes memberships behind a running server's back (deleting
--    an account, handing over or dissolving its groups) and then adds one to `epoch`; a
--    running server that sees the number change forgets its cache of who is in which
--    conversation. One row, id 1.
CREATE TABLE membership_epoch (
    id INTEGER NOT NULL PRIMARY KEY,
    epoch BIGINT NOT NULL
);
INSERT INTO membership_epoch (id, epoch) VALUES (1, 0);
