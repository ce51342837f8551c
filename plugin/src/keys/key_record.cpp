#include "keys/key_record.hpp"

#include <boost/json/array.hpp>

namespace mdp::api_access {

namespace json = boost::json;

const char* to_string(KeyStatus s) noexcept {
  switch (s) {
    case KeyStatus::active: return "active";
    case KeyStatus::expired: return "expired";
    case KeyStatus::revoked: return "revoked";
  }
  return "revoked";
}

const char* to_string(EventType t) noexcept {
  switch (t) {
    case EventType::created: return "created";
    case EventType::rotated: return "rotated";
    case EventType::revoked: return "revoked";
    case EventType::expired: return "expired";
    case EventType::updated: return "updated";
  }
  return "created";
}

KeyStatus KeyRecord::status_at(Micros now) const noexcept {
  if (revoked_at) return KeyStatus::revoked;
  if (expires_at && *expires_at <= now) return KeyStatus::expired;
  return KeyStatus::active;
}

namespace {
json::value time_or_null(const std::optional<Micros>& t) {
  if (!t) return nullptr;
  return json::string(format_rfc3339(*t));
}
json::value actor_or_null(const std::optional<Actor>& a) {
  if (!a) return nullptr;
  return json::object{{"id", a->id != 0 ? json::value(a->id) : json::value(nullptr)},
                      {"name", a->name}};
}
}  // namespace

json::object to_json(const KeyRecord& k, Micros now) {
  json::array scopes;
  for (const auto& s : k.scopes) scopes.emplace_back(s);
  json::object o;
  o["id"] = k.id;
  o["label"] = k.label;
  o["scopes"] = std::move(scopes);
  o["preview"] = k.preview;
  o["status"] = to_string(k.status_at(now));
  o["created_at"] = format_rfc3339(k.created_at);
  o["created_by"] = actor_or_null(k.created_by);
  o["last_used_at"] = time_or_null(k.last_used_at);
  o["expires_at"] = time_or_null(k.expires_at);
  o["revoked_at"] = time_or_null(k.revoked_at);
  o["revoked_by"] = actor_or_null(k.revoked_by);
  o["rotated_from"] = k.rotated_from ? json::value(*k.rotated_from) : json::value(nullptr);
  o["description"] = k.description;
  if (k.rate_limit)
    o["rate_limit"] = json::object{{"requests", k.rate_limit->requests},
                                   {"per_seconds", k.rate_limit->per_seconds}};
  else
    o["rate_limit"] = nullptr;
  json::array ips;
  for (const auto& n : k.allowed_ips) ips.emplace_back(n);
  o["allowed_ips"] = std::move(ips);
  if (k.last_used_address || k.last_used_agent)
    o["last_used_from"] = json::object{{"address", k.last_used_address.value_or("")},
                                       {"user_agent", k.last_used_agent.value_or("")}};
  else
    o["last_used_from"] = nullptr;
  o["revoked_reason"] = k.revoked_reason ? json::value(*k.revoked_reason) : json::value(nullptr);
  if (k.revoked_reason)
    o["leak"] = json::object{{"url", k.leak_url}, {"source", k.leak_source}};
  else
    o["leak"] = nullptr;
  return o;
}

json::object to_json(const KeyEvent& e) {
  json::object o;
  o["type"] = e.type;
  o["key_id"] = e.key_id;
  o["label"] = e.label;
  o["preview"] = e.preview;
  o["actor"] = actor_or_null(e.actor);
  o["at"] = format_rfc3339(e.at);
  o["detail"] = e.detail;
  if (e.type == "rotated" && e.related_key_id) o["rotated_from"] = *e.related_key_id;
  return o;
}

std::string join_scopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

std::vector<std::string> split_scopes(const std::string& stored) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < stored.size()) {
    const auto sp = stored.find(' ', pos);
    const auto end = sp == std::string::npos ? stored.size() : sp;
    if (end > pos) out.push_back(stored.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

}  // namespace mdp::api_access
