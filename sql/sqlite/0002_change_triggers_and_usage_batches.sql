-- api-access plugin, migration 0002 (SQLite). Published: never edit, add 0003_... instead.
--
-- 1. The change feed is written by the database itself: any change to a key that can alter a
--    request's decision (revoked_at, expires_at, or the row deleted) appends a row to
--    api_access_key_changes, whoever made the change. (SQLite serves one host process; the
--    PostgreSQL version of this migration also wakes the other processes with NOTIFY.)
-- 2. api_access_usage_batches: the id of every usage flush that committed, so a flush whose
--    COMMIT got no answer can learn whether it landed before it is sent again.

CREATE TRIGGER api_access_keys_state_changed
  AFTER UPDATE OF revoked_at, expires_at ON api_access_keys
  WHEN OLD.revoked_at IS NOT NEW.revoked_at OR OLD.expires_at IS NOT NEW.expires_at
BEGIN
  INSERT INTO api_access_key_changes (key_id, changed_at)
    VALUES (NEW.id, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));
END;

CREATE TRIGGER api_access_keys_deleted
  AFTER DELETE ON api_access_keys
BEGIN
  INSERT INTO api_access_key_changes (key_id, changed_at)
    VALUES (OLD.id, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));
END;

CREATE TABLE api_access_usage_batches (
  batch_id   TEXT    PRIMARY KEY,  -- random, 32 hex characters
  written_at INTEGER NOT NULL      -- microseconds since the Unix epoch, UTC
);
