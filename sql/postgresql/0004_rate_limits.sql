-- api-access plugin, migration 0004 (PostgreSQL). Published once released: never edit, add 0005_...
--
-- 1. Usage gains the requests refused by the key's rate limit (429 rate_limited), counted apart
--    from `requests` so a flood neither hides in nor inflates the integration's own figures.
-- 2. api_access_rate_windows: what each host process admitted for a key in its current
--    rate-limit window, so the processes sharing this database enforce one limit together.
--    One row per key and process, overwritten about once a second while the key is in use
--    (never once per request); rows of windows long past are deleted by housekeeping.

ALTER TABLE api_access_usage_daily ADD COLUMN rate_limited BIGINT NOT NULL DEFAULT 0;

CREATE TABLE api_access_rate_windows (
  key_id       BIGINT NOT NULL,
  process_id   TEXT   NOT NULL,  -- random per plugin load, 32 hex characters
  window_start BIGINT NOT NULL,  -- seconds since the Unix epoch (host clock), a multiple of per_seconds
  per_seconds  BIGINT NOT NULL,
  admitted     BIGINT NOT NULL,  -- requests this process let through in that window
  PRIMARY KEY (key_id, process_id)
);
CREATE INDEX api_access_rate_windows_end ON api_access_rate_windows ((window_start + per_seconds));
