-- api-access plugin, migration 0002 (PostgreSQL). Published: never edit, add 0003_... instead.
--
-- 1. The change feed is written by the database itself: any change to a key that can alter a
--    request's decision (revoked_at, expires_at, or the row deleted) appends a row to
--    api_access_key_changes and wakes every listening host process with NOTIFY, whoever made
--    the change (the plugin, another host process, an operator's SQL). NOTIFY is delivered only
--    when the transaction commits.
--    Change ids must become visible in id order, so that a reader that has seen id N has seen
--    every id below it (the polling fallback reads "id > last seen"). Sequence values are not
--    committed in order by themselves; one transaction-scoped advisory lock makes writers of
--    the feed take turns from the id's allocation to their commit. Key changes are rare (a
--    revoke, a rotation), so the turn-taking costs nothing that matters.
-- 2. api_access_usage_batches: the id of every usage flush that committed, so a flush whose
--    COMMIT got no answer (the connection died) can learn whether it landed before it is sent
--    again: counts are added exactly once. Rows older than a day are deleted by the plugin.

CREATE FUNCTION api_access_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed_key BIGINT;
  change_id   BIGINT;
BEGIN
  IF TG_OP = 'DELETE' THEN
    changed_key := OLD.id;
  ELSIF NEW.revoked_at IS NOT DISTINCT FROM OLD.revoked_at
        AND NEW.expires_at IS NOT DISTINCT FROM OLD.expires_at THEN
    RETURN NULL;  -- set to the value it had: nothing changed
  ELSE
    changed_key := NEW.id;
  END IF;
  PERFORM pg_advisory_xact_lock(7312406301);  -- 'api-access change feed' writers take turns
  INSERT INTO api_access_key_changes (key_id, changed_at)
    VALUES (changed_key, (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT)
    RETURNING id INTO change_id;
  PERFORM pg_notify('api_access_key_changes', change_id::TEXT);
  RETURN NULL;
END;
$$;

CREATE TRIGGER api_access_keys_changed
  AFTER UPDATE OF revoked_at, expires_at OR DELETE ON api_access_keys
  FOR EACH ROW EXECUTE FUNCTION api_access_key_changed();

CREATE TABLE api_access_usage_batches (
  batch_id   TEXT   PRIMARY KEY,  -- random, 32 hex characters
  written_at BIGINT NOT NULL      -- microseconds since the Unix epoch, UTC
);
