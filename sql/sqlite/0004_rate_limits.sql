-- api-access plugin, migration 0004 (SQLite). Published once released: never edit, add 0005_...
--
-- 1. Usage gains the requests refused by the key's rate limit (429 rate_limited), counted apart
--    from `requests` so a flood neither hides in nor inflates the integration's own figures.
-- 2. api_access_rate_windows: what each host process admitted for a key in its current
--    rate-limit window. SQLite serves one host process, which keeps its counts in memory; the
--    table exists so both dialects have one schema (the PostgreSQL plugin exchanges counts
--    through it).

ALTER TABLE api_access_usage_daily ADD COLUMN rate_limited INTEGER NOT NULL DEFAULT 0;

CREATE TABLE api_access_rate_windows (
  key_id       INTEGER NOT NULL,
  process_id   TEXT    NOT NULL,  -- random per plugin load, 32 hex characters
  window_start INTEGER NOT NULL,  -- seconds since the Unix epoch (host clock), a multiple of per_seconds
  per_seconds  INTEGER NOT NULL,
  admitted     INTEGER NOT NULL,  -- requests this process let through in that window
  PRIMARY KEY (key_id, process_id)
);
