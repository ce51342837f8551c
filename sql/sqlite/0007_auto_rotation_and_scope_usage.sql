-- api-access plugin, migration 0007 (SQLite). Published: never edit, add a later file instead.
--
-- 1. Rotations that finish themselves. A rotation may ask for the old key to be revoked
--    automatically once the integration has switched: after the new key's first successful
--    request, once the old key has had no request for quiet_seconds. One row per such rotation,
--    named by the new key. state:
--      waiting                the plugin's background check decides (any host process; the
--                             UPDATE ... WHERE state = 'waiting' lets exactly one act)
--      revoked_automatically  the check revoked the old key (actor "automatic rotation")
--      finished               an admin revoked the old key by hand from the rotation
--      cancelled              an admin cancelled it: the old key stays as it is
--      old_key_gone           the old key was revoked or expired otherwise: nothing to do
--      new_key_gone           the new key stopped working first: the old key is left alone
--    At most one waiting rotation per old key (a second rotation of it replaces the first).
-- 2. Least privilege: usage per key and scope, written with the usage flush (never one row per
--    request): how many requests each scope allowed, and the last one's time.
-- 3. When per-scope counting began (the host clock at the first load of this version): a scope
--    is called unused for 30 days only once counting has covered 30 days.

CREATE TABLE api_access_auto_rotations (
  new_key_id    INTEGER PRIMARY KEY REFERENCES api_access_keys (id),
  old_key_id    INTEGER NOT NULL REFERENCES api_access_keys (id),
  clinic_id     INTEGER NOT NULL,
  quiet_seconds INTEGER NOT NULL CHECK (quiet_seconds > 0),
  state         TEXT    NOT NULL DEFAULT 'waiting'
                CHECK (state IN ('waiting', 'revoked_automatically', 'finished', 'cancelled',
                                 'old_key_gone', 'new_key_gone')),
  created_at    INTEGER NOT NULL, -- host clock, microseconds since the Unix epoch, UTC
  ended_at      INTEGER,          -- when it left 'waiting'
  ended_by_id   INTEGER,          -- the admin who finished or cancelled it; NULL otherwise
  ended_by_name TEXT
);
CREATE UNIQUE INDEX api_access_auto_rotations_waiting_old
  ON api_access_auto_rotations (old_key_id) WHERE state = 'waiting';
CREATE INDEX api_access_auto_rotations_by_old ON api_access_auto_rotations (old_key_id, state);

CREATE TABLE api_access_scope_usage (
  key_id       INTEGER NOT NULL REFERENCES api_access_keys (id),
  scope        TEXT    NOT NULL,  -- the host's scope id, e.g. 'patients:write'
  requests     INTEGER NOT NULL,  -- requests the key made with this scope
  last_used_at INTEGER NOT NULL,  -- host clock, whole seconds in microseconds, UTC
  PRIMARY KEY (key_id, scope)
);

CREATE TABLE api_access_scope_tracking (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  started_at INTEGER NOT NULL     -- host clock, microseconds since the Unix epoch, UTC
);
