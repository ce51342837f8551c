-- api-access plugin, migration 0006 (SQLite). Published: never edit, add a later file instead.
--
-- Disclosure accounting: which records (the host's patients) each key's requests read or
-- changed, per UTC day. The host reports them per request (ApiHook::on_api_records); the plugin
-- adds them up in memory and writes them in batches, like usage, exactly once per batch id.
-- Rows older than the retention (setting disclosure_retention_days, default 6 years) are
-- deleted by the plugin's background thread.
CREATE TABLE api_access_disclosures (
  key_id      INTEGER NOT NULL REFERENCES api_access_keys (id),
  day         TEXT    NOT NULL, -- 'YYYY-MM-DD', UTC
  record_type TEXT    NOT NULL, -- the host's word, e.g. 'patient'
  record_id   INTEGER NOT NULL, -- the host's id of the record
  access      TEXT    NOT NULL CHECK (access IN ('read', 'write')),
  requests    INTEGER NOT NULL, -- requests of that day that touched it so
  first_at    INTEGER NOT NULL, -- host clock, microseconds since the Unix epoch, UTC
  last_at     INTEGER NOT NULL,
  PRIMARY KEY (key_id, day, record_type, record_id, access)
);
CREATE INDEX api_access_disclosures_by_record ON api_access_disclosures (record_type, record_id, day);
CREATE INDEX api_access_disclosures_by_day ON api_access_disclosures (day);

CREATE TABLE api_access_disclosure_batches (
  batch_id   TEXT    PRIMARY KEY, -- random, 32 hex characters
  written_at INTEGER NOT NULL     -- wall clock, microseconds since the Unix epoch, UTC
);
