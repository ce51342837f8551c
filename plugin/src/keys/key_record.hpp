// What the plugin knows about a key (never the key itself) and an audit event, plus their JSON
// forms for the admin routes. Owned by the keys code; the pages (plugin/src/pages/)
// read these types too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "keys/key_attributes.hpp"
#include "mdp/host/services.hpp"
#include "util/time_format.hpp"

namespace mdp::api_access {

using KeyId = std::int64_t;

struct Actor {
  host::UserId id = 0;
  std::string name;
};

enum class KeyStatus { active, expired, revoked };
const char* to_string(KeyStatus s) noexcept;

struct KeyRecord {
  KeyId id = 0;
  host::ClinicId clinic_id = 0;
  std::string label;
  std::vector<std::string> scopes;
  std::string preview;
  Actor created_by;
  Micros created_at = 0;
  std::optional<Micros> last_used_at;
  std::optional<Micros> expires_at;
  std::optional<Micros> revoked_at;
  std::optional<Actor> revoked_by;
  std::optional<KeyId> rotated_from;
  std::string description;             // free text from the admin, "" for none
  std::optional<RateLimit> rate_limit;  // nullopt: the plan's default
  std::vector<std::string> allowed_ips;  // canonical CIDRs; empty: anywhere
  // The client address and user agent of the key's last request (written with usage).
  std::optional<std::string> last_used_address;
  std::optional<std::string> last_used_agent;
  // Why the key was revoked when no admin did it ("leak_report"); nullopt: by revoked_by.
  std::optional<std::string> revoked_reason;
  std::string leak_url, leak_source;  // revoked_reason "leak_report": where it was found

  // revoked wins over expired; a key whose expires_at <= now is expired.
  KeyStatus status_at(Micros now) const noexcept;
};

// {"id","label","scopes","preview","status","created_at","created_by":{"id","name"},
//  "last_used_at","expires_at","revoked_at","revoked_by","rotated_from","description",
//  "rate_limit":{"requests","per_seconds"},"allowed_ips":[...],
//  "last_used_from":{"address","user_agent"},"revoked_reason","leak":{"url","source"}};
// absent values are null (allowed_ips: [], description: "").
boost::json::object to_json(const KeyRecord& key, Micros now);

enum class EventType { created, rotated, revoked, expired, updated };
const char* to_string(EventType t) noexcept;

struct KeyEvent {
  std::int64_t id = 0;
  host::ClinicId clinic_id = 0;
  KeyId key_id = 0;
  std::string type;  // "created" | "rotated" | "revoked" | "expired" | "updated"
  std::string label;
  std::string preview;
  std::optional<Actor> actor;  // nullopt: the system (expiry)
  Micros at = 0;
  std::optional<KeyId> related_key_id;  // rotated: the key this one replaced
  std::string detail;                   // updated: what changed, in words ("" otherwise)
};

// {"type","key_id","label","preview","actor":{"id","name"}|null,"at","detail"} (+ "rotated_from"
// on rotated events). An actor that is not a user (a leak report) has "id": null.
boost::json::object to_json(const KeyEvent& event);

// Scopes are stored space-separated (scope ids contain no spaces).
std::string join_scopes(const std::vector<std::string>& scopes);
std::vector<std::string> split_scopes(const std::string& stored);

}  // namespace mdp::api_access
