-- api-access plugin, migration 0005 (PostgreSQL). Published: never edit, add a later file instead.
--
-- The messages the plugin sent (through the host's Notifications service) to a clinic's
-- admins: one row per message, named by notice_key, e.g. 'key/42/rotation_due',
-- 'key/42/spike/2026-12-05', 'digest/2026-W49'. The UNIQUE constraint is what makes "once"
-- hold: the process whose INSERT adds the row sends it; a restart, a second check or a second
-- host process finds the row and sends nothing. sent_at stays NULL until the host accepted the
-- message; such rows are sent again (the host delivers each key once, so a repeat is harmless).
CREATE TABLE api_access_notices (
  id         BIGSERIAL PRIMARY KEY,
  clinic_id  BIGINT  NOT NULL,
  key_id     BIGINT  REFERENCES api_access_keys (id), -- NULL: about the clinic (the digest)
  notice_key TEXT    NOT NULL,
  cause      TEXT    NOT NULL, -- rotation_soon | rotation_due | expiring_soon | unused | spike | revoked_leak | digest
  severity   TEXT    NOT NULL, -- info | warning | danger
  subject    TEXT    NOT NULL,
  body       TEXT    NOT NULL,
  link       TEXT    NOT NULL,
  created_at BIGINT  NOT NULL, -- host clock, microseconds since the Unix epoch, UTC
  sent_at    BIGINT,           -- when the host accepted (or rejected) it; NULL: to be sent
  outcome    TEXT,             -- 'accepted' | 'rejected'
  UNIQUE (clinic_id, notice_key)
);
CREATE INDEX api_access_notices_unsent ON api_access_notices (sent_at) WHERE sent_at IS NULL;
CREATE INDEX api_access_notices_by_key ON api_access_notices (key_id);
