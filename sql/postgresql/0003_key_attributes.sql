-- api-access plugin, migration 0003 (PostgreSQL). Published once released: never edit, add 0004_...
--
-- 1. What an admin can set on a key besides its label and scopes: a description, a rate limit
--    (both columns NULL: the plan's default) and the client addresses it may be used from
--    (allowed_ips: space-separated canonical CIDRs, '' = anywhere).
-- 2. Where the key was last used from: the client address and user agent of its last request,
--    written with the usage flush (one value per key, never one row per request).
-- 3. Why a key was revoked when no admin did it: revoked_reason 'leak_report' with where the key
--    was found (leak_url, leak_source). NULL: revoked by the user in revoked_by_*.
-- 4. Audit events gain the type 'updated' and a detail in words ("label: ... -> ...").
-- 5. The change feed's trigger also fires when scopes, allowed_ips or the rate limit change,
--    so every host process refreshes what its request hook enforces.

ALTER TABLE api_access_keys
  ADD COLUMN description TEXT NOT NULL DEFAULT '',
  ADD COLUMN rate_limit_requests BIGINT,
  ADD COLUMN rate_limit_per_seconds BIGINT,
  ADD COLUMN allowed_ips TEXT NOT NULL DEFAULT '',
  ADD COLUMN last_used_address TEXT,
  ADD COLUMN last_used_agent TEXT,
  ADD COLUMN revoked_reason TEXT CHECK (revoked_reason IN ('leak_report')),
  ADD COLUMN leak_url TEXT,
  ADD COLUMN leak_source TEXT;

ALTER TABLE api_access_events DROP CONSTRAINT api_access_events_type_check;
ALTER TABLE api_access_events
  ADD CONSTRAINT api_access_events_type_check
    CHECK (type IN ('created', 'rotated', 'revoked', 'expired', 'updated')),
  ADD COLUMN detail TEXT NOT NULL DEFAULT '';

CREATE OR REPLACE FUNCTION api_access_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed_key BIGINT;
  change_id   BIGINT;
BEGIN
  IF TG_OP = 'DELETE' THEN
    changed_key := OLD.id;
  ELSIF NEW.revoked_at IS NOT DISTINCT FROM OLD.revoked_at
        AND NEW.expires_at IS NOT DISTINCT FROM OLD.expires_at
        AND NEW.scopes IS NOT DISTINCT FROM OLD.scopes
        AND NEW.allowed_ips IS NOT DISTINCT FROM OLD.allowed_ips
        AND NEW.rate_limit_requests IS NOT DISTINCT FROM OLD.rate_limit_requests
        AND NEW.rate_limit_per_seconds IS NOT DISTINCT FROM OLD.rate_limit_per_seconds THEN
    RETURN NULL;  -- nothing the request hook enforces changed
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

DROP TRIGGER api_access_keys_changed ON api_access_keys;
CREATE TRIGGER api_access_keys_changed
  AFTER UPDATE OF revoked_at, expires_at, scopes, allowed_ips, rate_limit_requests,
                  rate_limit_per_seconds OR DELETE ON api_access_keys
  FOR EACH ROW EXECUTE FUNCTION api_access_key_changed();
