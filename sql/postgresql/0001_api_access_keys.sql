-- api-access plugin, migration 0001 (PostgreSQL). Published: never edit, add 0002_... instead.
-- Timestamps are integer microseconds since the Unix epoch, UTC (same on SQLite).
-- key_hash is SHA-256 of the full key text as 64 lowercase hex characters: the key itself is
-- never stored, and preview is "mdp_" + U+2026 + the last 4 characters.

CREATE TABLE api_access_keys (
  id              BIGSERIAL PRIMARY KEY,
  clinic_id       BIGINT  NOT NULL,
  label           TEXT    NOT NULL,
  scopes          TEXT    NOT NULL, -- space-separated scope ids, e.g. 'read appointments:write'
  key_hash        TEXT    NOT NULL UNIQUE,
  preview         TEXT    NOT NULL,
  created_by_id   BIGINT  NOT NULL,
  created_by_name TEXT    NOT NULL,
  created_at      BIGINT  NOT NULL,
  last_used_at    BIGINT,
  expires_at      BIGINT,
  revoked_at      BIGINT,
  revoked_by_id   BIGINT,
  revoked_by_name TEXT,
  rotated_from    BIGINT  REFERENCES api_access_keys (id)
);
CREATE INDEX api_access_keys_by_clinic ON api_access_keys (clinic_id, created_at);
CREATE INDEX api_access_keys_by_expiry ON api_access_keys (expires_at);

-- The audit trail shown by GET events. related_key_id: for 'rotated', the key it replaced.
CREATE TABLE api_access_events (
  id             BIGSERIAL PRIMARY KEY,
  clinic_id      BIGINT  NOT NULL,
  key_id         BIGINT  NOT NULL REFERENCES api_access_keys (id),
  type           TEXT    NOT NULL CHECK (type IN ('created', 'rotated', 'revoked', 'expired')),
  label          TEXT    NOT NULL,
  preview        TEXT    NOT NULL,
  actor_id       BIGINT, -- NULL: the system
  actor_name     TEXT,
  at             BIGINT  NOT NULL,
  related_key_id BIGINT
);
CREATE INDEX api_access_events_by_clinic ON api_access_events (clinic_id, at);
CREATE INDEX api_access_events_by_key ON api_access_events (key_id, type);
-- One 'expired' event per key, even when two host processes sweep at once.
CREATE UNIQUE INDEX api_access_events_expired_once ON api_access_events (key_id) WHERE type = 'expired';

-- Requests per key per UTC day, written in batches by the usage flusher.
CREATE TABLE api_access_usage_daily (
  key_id        BIGINT  NOT NULL REFERENCES api_access_keys (id),
  day           TEXT    NOT NULL, -- 'YYYY-MM-DD'
  requests      BIGINT  NOT NULL DEFAULT 0,
  client_errors BIGINT  NOT NULL DEFAULT 0,
  server_errors BIGINT  NOT NULL DEFAULT 0,
  PRIMARY KEY (key_id, day)
);

-- Change feed: every revoke or expiry change appends a row, so every host process sharing the
-- database can refresh the cached state of that key (polled about once a second).
CREATE TABLE api_access_key_changes (
  id         BIGSERIAL PRIMARY KEY,
  key_id     BIGINT  NOT NULL,
  changed_at BIGINT  NOT NULL
);
