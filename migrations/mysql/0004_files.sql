-- 0004: files and images relayed through the server's temporary upload store.
-- Timestamps are Unix milliseconds.

-- 1. One row per upload. The file's bytes live in UPLOAD_DIR under the name `id` (a uuid);
--    `name` is the uploader's file name, metadata only, never used as a path. The row stays
--    after the file is deleted, with `expired` set, so that history can say the file is gone.
CREATE TABLE uploads (
    id VARCHAR(36) NOT NULL PRIMARY KEY,    -- uuid, also the file name on disk
    uploader_id BIGINT NOT NULL,
    name VARCHAR(255) NOT NULL,             -- the uploader's file name (metadata)
    size BIGINT NOT NULL,                   -- bytes
    mime VARCHAR(127) NOT NULL,             -- content type, from the name, checked for images
    width BIGINT NULL,                      -- images only: pixels
    height BIGINT NULL,
    thumbnail_id VARCHAR(36) NULL,          -- images only: the thumbnail PNG's uuid on disk
    conversation_id BIGINT NULL,            -- where it was sent; NULL while not attached
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,             -- the sweeper deletes the file at this time
    expired BOOLEAN NOT NULL DEFAULT FALSE, -- the file is deleted; only this row remains
    -- 2. The sweeper looks for due files, the upload cap counts a user's pending ones.
    INDEX uploads_by_expiry (expired, expires_at),
    INDEX uploads_by_uploader (uploader_id, conversation_id),
    FOREIGN KEY (uploader_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- 3. Who has fetched an upload completely (a whole download, or a client's confirmation).
--    Once every receiver of its conversation is here, the sweeper deletes the file.
CREATE TABLE upload_fetches (
    upload_id VARCHAR(36) NOT NULL,
    user_id BIGINT NOT NULL,
    fetched_at BIGINT NOT NULL,
    PRIMARY KEY (upload_id, user_id),
    FOREIGN KEY (upload_id) REFERENCES uploads(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
