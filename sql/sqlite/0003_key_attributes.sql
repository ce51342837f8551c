-- api-access plugin, migration 0003 (SQLite). Published once released: never edit, add 0004_...
--
-- 1. What an admin can set on a key besides its label and scopes: a description, a rate limit
--    (both columns NULL: the plan's default) and the client addresses it may be used from
--    (allowed_ips: space-separated canonical CIDRs, '' = anywhere).
-- 2. Where the key was last used from: the client address and user agent of its last request,
--    written with the usage flush (one value per key, never one row per request).
-- 3. Why a key was revoked when no admin did it: revoked_reason 'leak_report' with where the key
--    was found (leak_url, leak_source). NULL: revoked by the user in revoked_by_*.
-- 4. Audit events gain the type 'updated' and a detail in words ("label: ... -> ..."). SQLite
--    cannot change a CHECK constraint in place, so the events table is rebuilt with its rows.
-- 5. The change feed's trigger also fires when scopes, allowed_ips or the rate limit change,
--    so every host process refreshes what its request hook enforces.

ALTER TABLE api_access_keys ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE api_access_keys ADD COLUMN rate_limit_requests INTEGER;
ALTER TABLE api_access_keys ADD COLUMN rate_limit_per_seconds INTEGER;
ALTER TABLE api_access_keys ADD COLUMN allowed_ips TEXT NOT NULL DEFAULT '';
ALTER TABLE api_access_keys ADD COLUMN last_used_address TEXT;
ALTER TABLE api_access_keys ADD COLUMN last_used_agent TEXT;
ALTER TABLE api_access_keys ADD COLUMN revoked_reason TEXT CHECK (revoked_reason IN ('leak_report'));
ALTER TABLE api_access_keys ADD COLUMN leak_url TEXT;
ALTER TABLE api_access_keys ADD COLUMN leak_source TEXT;

CREATE TABLE api_access_events_0003 (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  clinic_id      INTEGER NOT NULL,
  key_id         INTEGER NOT NULL REFERENCES api_access_keys (id),
  type           TEXT    NOT NULL
                 CHECK (type IN ('created', 'rotated', 'revoked', 'expired', 'updated')),
  label          TEXT    NOT NULL,
  preview        TEXT    NOT NULL,
  actor_id       INTEGER, -- NULL: not a user (the system, or actor_name says who)
  actor_name     TEXT,
  at             INTEGER NOT NULL,
  related_key_id INTEGER,
  detail         TEXT    NOT NULL DEFAULT ''
);
INSERT INTO api_access_events_0003
  (id, clinic_id, key_id, type, label, preview, actor_id, actor_name, at, related_key_id)
  SELECT id, clinic_id, key_id, type, label, preview, actor_id, actor_name, at, related_key_id
  FROM api_access_events;
DROP TABLE api_access_events;
ALTER TABLE api_access_events_0003 RENAME TO api_access_events;
CREATE INDEX api_access_events_by_clinic ON api_access_events (clinic_id, at);
CREATE INDEX api_access_events_by_key ON api_access_events (key_id, type);
CREATE UNIQUE INDEX api_access_events_expired_once ON api_access_events (key_id) WHERE type = 'expired';

DROP TRIGGER api_access_keys_state_changed;
CREATE TRIGGER api_access_keys_state_changed
  AFTER UPDATE OF revoked_at, expires_at, scopes, allowed_ips, rate_limit_requests,
                  rate_limit_per_seconds ON api_access_keys
  WHEN OLD.revoked_at IS NOT NEW.revoked_at OR OLD.expires_at IS NOT NEW.expires_at
    OR OLD.scopes IS NOT NEW.scopes OR OLD.allowed_ips IS NOT NEW.allowed_ips
    OR OLD.rate_limit_requests IS NOT NEW.rate_limit_requests
    OR OLD.rate_limit_per_seconds IS NOT NEW.rate_limit_per_seconds
BEGIN
  INSERT INTO api_access_key_changes (key_id, changed_at)
    VALUES (NEW.id, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));
END;
