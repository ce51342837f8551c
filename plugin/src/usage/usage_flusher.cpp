#include "usage/usage_flusher.hpp"

#include <chrono>
#include <string>

namespace mdp::api_access {

bool UsageFlusher::flush() noexcept {
  std::lock_guard guard(mutex_);
  try {
    std::vector<UsageDelta> deltas;
    std::vector<std::pair<KeyId, Micros>> last_used;
    std::vector<CacheEntry*> touched;
    const auto entries = cache_.entries();
    for (CacheEntry* e : entries) {
      e->usage.collect(e->key_id, deltas);
      const Micros lu = e->usage.last_used();
      if (lu > e->usage.flushed_last_used) {
        last_used.emplace_back(e->key_id, lu);
        touched.push_back(e);
      }
    }
    if (!deltas.empty() || !last_used.empty()) {
      store_.write(deltas, last_used);
      for (const auto& d : deltas) KeyUsage::mark_flushed(d);
      for (std::size_t i = 0; i < touched.size(); ++i)
        touched[i]->usage.flushed_last_used = last_used[i].second;
    }
    const auto now = std::chrono::steady_clock::now();
    for (CacheEntry* e : entries) e->usage.prune(now, std::chrono::seconds(30));
    if (failing_) log_.write(host::LogLevel::info, "usage flush recovered; pending counts written");
    failing_ = false;
    return true;
  } catch (const std::exception& ex) {
    if (!failing_)
      log_.write(host::LogLevel::warning,
                 std::string("usage flush failed, counts kept and retried: ") + ex.what());
    failing_ = true;
    return false;
  } catch (...) {
    failing_ = true;
    return false;
  }
}

}  // namespace mdp::api_access
