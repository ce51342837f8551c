// Sends the messages of notify/notice_rules.hpp through the host's Notifications service,
// each once, from any number of host processes sharing the database.
//
// Where it runs: on the plugin's background thread (api_access_plugin.cpp), after the usage
// flush of the same round, so the rules see today's requests. A check runs when the host clock
// has moved at least kCheckInterval since the last one, or backwards (a test clock), so a
// production host checks about once a minute and a test that moves the clock gets a check on
// the next round.
//
// Days are each clinic's own (its time zone, from the host's directory). A clinic whose zone
// the host cannot tell right now, and never told before, is left for a later check rather than
// judged on the wrong day.
//
// "Once": a notice is claimed by INSERTing its row into api_access_notices, whose UNIQUE
// (clinic_id, notice_key) lets exactly one INSERT add it, whichever process or restart tries.
// The process that added it sends it and records sent_at. A row left unsent (the host answered
// unavailable, or the process died between the INSERT and the send) is sent again by any
// process's check once it is a check interval old (younger, its own process is still sending
// it); the host delivers each notification key once, so two processes retrying the same row
// cannot make a second message.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mdp/host/services.hpp"
#include "notify/notice_rules.hpp"
#include "usage/usage_store.hpp"
#include "util/clinic_zones.hpp"

namespace mdp::api_access {

inline constexpr Micros kCheckInterval = 60 * kMicrosPerSecond;

class Notifier {
 public:
  Notifier(host::Database& db, host::Notifications& out, host::Log& log, const UsageStore& usage, ClinicZones& zones)
      : db_(db), out_(out), log_(log), usage_(usage), zones_(zones) {}

  // Runs check(now) if due (see above); logs a failure once per outage. Never throws.
  void tick(Micros now) noexcept;

  struct Result {
    std::size_t claimed = 0;  // new rows this process added
    std::size_t sent = 0;     // notifications the host accepted in this check (new and retried)
  };
  // One check now: sends what is pending, then every due notice not yet claimed. Throws on
  // database errors (what was claimed stays claimed, and is sent by a later check).
  Result check(Micros now);

 private:
  std::vector<KeyFacts> load_facts(Micros now) const;
  std::set<std::pair<host::ClinicId, std::string>> claimed_keys(const std::vector<KeyFacts>& keys,
                                                                const std::set<std::string>& digest_keys) const;
  std::optional<std::int64_t> claim(const Notice& n, Micros now);
  bool send(std::int64_t row, const Notice& n, Micros now);
  std::size_t resend_pending(Micros now);

  host::Database& db_;
  host::Notifications& out_;
  host::Log& log_;
  const UsageStore& usage_;
  ClinicZones& zones_;  // each clinic's calendar: whose "today" a rule judges
  std::mutex mutex_;  // one check at a time in this process
  std::optional<Micros> last_check_;
  bool failing_ = false;
};

}  // namespace mdp::api_access
