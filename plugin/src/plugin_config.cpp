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
}  // namespace

PluginConfig read_config(const host::Settings& settings) {
  PluginConfig c;
  c.offline_grace = std::chrono::seconds(
      integer_setting(settings, "offline_grace_seconds", c.offline_grace.count(), 0, 86400));
  c.change_poll = std::chrono::milliseconds(
      integer_setting(settings, "change_poll_ms", c.change_poll.count(), 50, 60000));
  c.disclosure_retention_days = static_cast<int>(
      integer_setting(settings, "disclosure_retention_days", c.disclosure_retention_days, 1, 36500));
  // The feed counts as "in sync" only after a read: a poll slower than the grace would make a
  // quiet, healthy process answer 503 between reads.
  if (c.offline_grace.count() > 0 && c.change_poll >= c.offline_grace)
    throw std::invalid_argument("setting change_poll_ms must be shorter than offline_grace_seconds");
  return c;
}

}  // namespace mdp::api_access
