// The columns of api_access_keys that the request hook's cache mirrors (revocation, expiry and
// the KeyRules), bound with SOCI into() in one place for every reader: the cache's loads, the
// change feed's reads and KeyStore::state(). Include only from .cpp files (SOCI is heavy).
#pragma once

#include <optional>
#include <string>

#include <soci/soci.h>

#include "keys/key_attributes.hpp"
#include "keys/key_record.hpp"

namespace mdp::api_access {

struct KeyStateRow {
  // In this order, after whatever columns the query selects first.
  static constexpr const char* kColumns =
      "revoked_at, expires_at, scopes, allowed_ips, rate_limit_requests, rate_limit_per_seconds";

  long long revoked = 0, expires = 0, rate_requests = 0, rate_seconds = 0;
  std::string scopes, allowed_ips;
  soci::indicator i_revoked = soci::i_null, i_expires = soci::i_null, i_rate_requests = soci::i_null,
                  i_rate_seconds = soci::i_null, i_allowed = soci::i_null,
                  i_scopes = soci::i_null;  // NULL only through a LEFT JOIN of a deleted key

  void bind(soci::statement& st) {
    st.exchange(soci::into(revoked, i_revoked));
    st.exchange(soci::into(expires, i_expires));
    st.exchange(soci::into(scopes, i_scopes));
    st.exchange(soci::into(allowed_ips, i_allowed));
    st.exchange(soci::into(rate_requests, i_rate_requests));
    st.exchange(soci::into(rate_seconds, i_rate_seconds));
  }
  // Call before each fetch: SOCI leaves an indicator as it was when a column is NULL only on
  // some backends.
  void reset() {
    i_revoked = i_expires = i_rate_requests = i_rate_seconds = i_allowed = i_scopes = soci::i_null;
    allowed_ips.clear();
    scopes.clear();
  }

  bool is_revoked() const { return i_revoked == soci::i_ok; }
  std::optional<Micros> expires_at() const {
    return i_expires == soci::i_ok ? std::optional<Micros>(expires) : std::nullopt;
  }
  KeyRules rules() const {
    KeyRules r;
    r.scopes = split_scopes(i_scopes == soci::i_ok ? scopes : std::string());
    r.allowed = AddressFilter::from_stored(i_allowed == soci::i_ok ? allowed_ips : std::string());
    r.rate_limit = rate_limit_of(i_rate_requests == soci::i_ok, rate_requests,
                                 i_rate_seconds == soci::i_ok, rate_seconds);
    return r;
  }

  // Both columns set and in range: a limit; otherwise the plan's default.
  static std::optional<RateLimit> rate_limit_of(bool has_requests, long long requests,
                                                bool has_seconds, long long seconds) {
    if (!has_requests || !has_seconds || requests < 1 || seconds < 1 ||
        requests > RateLimit::kMaxRequests || seconds > RateLimit::kMaxPerSeconds)
      return std::nullopt;
    return RateLimit{static_cast<std::uint32_t>(requests), static_cast<std::uint32_t>(seconds)};
  }
};

}  // namespace mdp::api_access
