#include "plugin_config.hpp"

#include <charconv>
#include <stdexcept>

namespace mdp::api_access {

namespace {
// A whole number in [lo, hi], or the default when unset.
long long integer_setting(const host::Settings& s, const char* name, long long fallback,
                          long long lo, long long hi) {
  const auto text = s.value(name);
  if (!text) return fallback;
  long long v = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc{} || end != text->data() + text->size() || v < lo || v > hi)
    throw std::invalid_argument(std::string("setting ") + name + " must be a whole number from " +
                                std::to_string(lo) + " to " + std::to_string(hi));
  return v;
}

// "N/S": N requests per S seconds, within RateLimit's bounds.
RateLimit rate_setting(const host::Settings& s, const char* name, RateLimit fallback) {
  const auto text = s.value(name);
  if (!text) return fallback;
  const auto slash = text->find('/');
  RateLimit r;
  auto number = [](std::string_view t, std::uint32_t& out) {
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return !t.empty() && ec == std::errc{} && end == t.data() + t.size();
  };
  const std::string_view all(*text);
  if (slash == std::string::npos || !number(all.substr(0, slash), r.requests) ||
      !number(all.substr(slash + 1), r.per_seconds) || r.requests < 1 ||
      r.requests > RateLimit::kMaxRequests || r.per_seconds < 1 || r.per_seconds > RateLimit::kMaxPerSeconds)
    throw std::invalid_argument(std::string("setting ") + name +
                                " must be N/S: N requests (1 to " + std::to_string(RateLimit::kMaxRequests) +
                                ") per S seconds (1 to " + std::to_string(RateLimit::kMaxPerSeconds) + "), e.g. 600/60");
  return r;
}
}  // namespace

PluginConfig read_config(const host::Settings& settings) {
  PluginConfig c;
  c.offline_grace = std::chrono::seconds(
      integer_setting(settings, "offline_grace_seconds", c.offline_grace.count(), 0, 86400));
  c.change_poll = std::chrono::milliseconds(
      integer_setting(settings, "change_poll_ms", c.change_poll.count(), 50, 60000));
  c.disclosure_retention_days = static_cast<int>(
      integer_setting(settings, "disclosure_retention_days", c.disclosure_retention_days, 1, 36500));
  c.tier_rate_limit = rate_setting(settings, "rate_limit_tier", c.tier_rate_limit);
  c.addon_rate_limit = rate_setting(settings, "rate_limit_addon", c.addon_rate_limit);
  c.rate_limit_sync = std::chrono::milliseconds(
      integer_setting(settings, "rate_limit_sync_ms", c.rate_limit_sync.count(), 50, 60000));
  // The feed counts as "in sync" only after a read: a poll slower than the grace would make a
  // quiet, healthy process answer 503 between reads.
  if (c.offline_grace.count() > 0 && c.change_poll >= c.offline_grace)
    throw std::invalid_argument("setting change_poll_ms must be shorter than offline_grace_seconds");
  return c;
}

}  // namespace mdp::api_access
