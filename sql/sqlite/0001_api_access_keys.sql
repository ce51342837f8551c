-- api-access plugin, migration 0001 (SQLite). Published: never edit, add 0002_... instead.
-- Timestamps are integer microseconds since the Unix epoch, UTC (same on PostgreSQL).
-- key_hash is SHA-256 of the full key text as 64 lowercase hex characters: the key itself is
-- never stored, and preview is "mdp_" + U+2026 + the last 4 characters.

CREATE TABLE api_access_keys (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  clinic_id       INTEGER NOT NULL,
  label           TEXT    NOT NULL,
  scopes          TEXT    NOT NULL, -- space-separated scope ids, e.g. 'read appointments:write'
  key_hash        TEXT    NOT NULL UNIQUE,
  preview         TEXT    NOT NULL,
  created_by_id   INTEGER NOT NULL,
  created_by_name TEXT    NOT NULL,
  created_at      INTEGER NOT NULL,
  last_used_at    INTEGER,
  expires_at      INTEGER,
  revoked_at      INTEGER,
  revoked_by_id   INTEGER,
  revoked_by_name TEXT,
  rotated_from    INTEGER REFERENCES api_access_keys (id)
);
CREATE INDEX api_access_keys_by_clinic ON api_access_keys (clinic_id, created_at);
CREATE INDEX api_access_keys_by_expiry ON api_access_keys (expires_at);

-- The audit trail shown by GET events. related_key_id: for 'rotated', the key it replaced.
CREATE TABLE api_access_events (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  clinic_id      INTEGER NOT NULL,
  key_id         INTEGER NOT NULL REFERENCES api_access_keys (id),
  type           TEXT    NOT NULL CHECK (type IN ('created', 'rotated', 'revoked', 'expired')),
  label          TEXT    NOT NULL,
  preview        TEXT    NOT NULL,
  actor_id       INTEGER, -- NULL: the system
  actor_name     TEXT,
  at             INTEGER NOT NULL,
  related_key_id INTEGER
);
CREATE INDEX api_access_events_by_clinic ON api_access_events (clinic_id, at);
CREATE INDEX api_access_events_by_key ON api_access_events (key_id, type);
-- One 'expired' event per key, even when two host processes sweep at once.
CREATE UNIQUE INDEX api_access_events_expired_once ON api_access_events (key_id) WHERE type = 'expired';

-- Requests per key per UTC day, written in batches by the usage flusher.
CREATE TABLE api_access_usage_daily (
  key_id        INTEGER NOT NULL REFERENCES api_access_keys (id),
  day           TEXT    NOT NULL, -- 'YYYY-MM-DD'
  requests      INTEGER NOT NULL DEFAULT 0,
  client_errors INTEGER NOT NULL DEFAULT 0,
  server_errors INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (key_id, day)
);

-- Change feed: every revoke or expiry change appends a row, so every host process sharing the
-- database can refresh the cached state of that key (polled about once a second).
CREATE TABLE api_access_key_changes (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  key_id     INTEGER NOT NULL,
  changed_at INTEGER NOT NULL
);
