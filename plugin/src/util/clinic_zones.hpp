// Each clinic's time zone (host::Directory::clinic(...).time_zone), cached for a minute.
//
// The contract announces no time zone changes, so an answer is kept for `ttl` and then asked
// again: a clinic that moves its zone sees it on the page and in new usage within a minute.
// Only answers are cached: when the host cannot tell (Lookup unavailable), the last answer is
// used if there is one, else the caller is told "unknown" (never "UTC" by guess). A name the tz
// database does not know counts as UTC, logged once per clinic and name.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "mdp/host/services.hpp"
#include "util/clinic_time.hpp"

namespace mdp::api_access {

class ClinicZones {
 public:
  ClinicZones(const host::Directory& directory, host::Log& log,
              std::chrono::seconds ttl = std::chrono::seconds(60))
      : directory_(directory), log_(log), ttl_(ttl) {}

  // The clinic's zone, or nullopt when the host could not tell and no earlier answer is known.
  std::optional<ClinicZone> find(host::ClinicId clinic) noexcept;
  // For routes and pages: throws DatabaseUnavailable (util/db.hpp) instead of nullopt.
  ClinicZone get(host::ClinicId clinic);

 private:
  struct Known {
    ClinicZone zone;
    std::string name;  // as the host gave it
    std::chrono::steady_clock::time_point fetched;
  };
  const host::Directory& directory_;
  host::Log& log_;
  const std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::map<host::ClinicId, Known> known_;
};

}  // namespace mdp::api_access
