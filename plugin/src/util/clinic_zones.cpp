#include "util/clinic_zones.hpp"

#include "util/db.hpp"

namespace mdp::api_access {

std::optional<ClinicZone> ClinicZones::find(host::ClinicId clinic) noexcept {
  const auto now = std::chrono::steady_clock::now();
  try {
    {
      std::lock_guard g(mutex_);
      if (auto it = known_.find(clinic); it != known_.end() && now - it->second.fetched < ttl_)
        return it->second.zone;
    }
    // Asked outside the lock: a slow host delays only this caller.
    const host::Lookup<host::Clinic> c = directory_.clinic(clinic);
    std::lock_guard g(mutex_);
    auto it = known_.find(clinic);
    if (c.is_unavailable()) {
      if (it != known_.end()) return it->second.zone;  // an older answer beats none
      return std::nullopt;
    }
    const std::string name = c.is_found() ? c.value.time_zone : std::string();
    std::optional<ClinicZone> zone = ClinicZone::find(name);
    if (!zone) {
      if (it == known_.end() || it->second.name != name)
        log_.write(host::LogLevel::warning, "clinic " + std::to_string(clinic) + " has the time zone \"" +
                                                name.substr(0, 64) +
                                                "\", which the tz database does not know: its days and times are shown in UTC");
      zone = ClinicZone();
    }
    known_.insert_or_assign(clinic, Known{*zone, name, now});
    return zone;
  } catch (...) {
    return std::nullopt;  // out of memory
  }
}

ClinicZone ClinicZones::get(host::ClinicId clinic) {
  if (auto z = find(clinic)) return *z;
  throw DatabaseUnavailable();
}

}  // namespace mdp::api_access
