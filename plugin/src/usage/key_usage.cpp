#include "usage/key_usage.hpp"

#include <algorithm>

namespace mdp::api_access {

PeriodCounters* KeyUsage::switch_period(Period p) noexcept {
  try {
    std::lock_guard guard(mutex_);
    PeriodCounters* c = current_.load(std::memory_order_acquire);
    if (c != nullptr && c->period == p) return c;  // another thread switched first
    for (auto& d : periods_)
      if (d->period == p) {
        current_.store(d.get(), std::memory_order_release);
        return d.get();
      }
    periods_.push_back(std::make_unique<PeriodCounters>(p));
    current_.store(periods_.back().get(), std::memory_order_release);
    return periods_.back().get();
  } catch (...) {
    return nullptr;  // out of memory: the response goes uncounted rather than failing
  }
}

void KeyUsage::record(Micros now, int status, bool rate_limited) noexcept {
  const Period p = period_of(now);
  PeriodCounters* c = current_.load(std::memory_order_acquire);
  if (c == nullptr || c->period != p) c = switch_period(p);
  if (c != nullptr && rate_limited) {
    c->rate_limited.fetch_add(1, std::memory_order_relaxed);
  } else if (c != nullptr) {
    c->requests.fetch_add(1, std::memory_order_relaxed);
    if (status >= 400 && status < 500) c->client_errors.fetch_add(1, std::memory_order_relaxed);
    if (status >= 500) c->server_errors.fetch_add(1, std::memory_order_relaxed);
  }
  const Micros second = floor_seconds(now);  // stored timestamps are whole seconds
  Micros seen = last_used_.load(std::memory_order_relaxed);
  while (seen < second &&
         !last_used_.compare_exchange_weak(seen, second, std::memory_order_relaxed)) {
  }
}

void KeyUsage::note_client(std::string_view address, std::string_view user_agent) noexcept {
  user_agent = user_agent.substr(0, ClientSeen::kMaxAgent);
  const std::uint64_t h =
      (std::hash<std::string_view>{}(address) * 0x9E3779B97F4A7C15ull ^
       std::hash<std::string_view>{}(user_agent)) | 1;  // never 0, which means "none yet"
  if (client_hash_.load(std::memory_order_relaxed) == h) return;
  std::unique_lock lock(client_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  try {
    client_.address.assign(address);
    client_.user_agent.assign(user_agent);
    // Stored as text on both dialects: keep it printable ASCII so it is always valid UTF-8.
    for (char& c : client_.user_agent)
      if (c < 0x20 || c > 0x7E) c = '?';
    client_changed_ = true;
    client_hash_.store(h, std::memory_order_relaxed);
  } catch (...) {
    // Out of memory: this client goes unrecorded; the next request tries again.
  }
}

std::optional<ClientSeen> KeyUsage::take_client() {
  std::lock_guard guard(client_mutex_);
  if (!client_changed_) return std::nullopt;
  client_changed_ = false;
  return client_;
}

void KeyUsage::collect(std::int64_t key_id, std::vector<UsageDelta>& out) {
  std::lock_guard guard(mutex_);
  for (auto& d : periods_) {
    UsageDelta delta;
    delta.key_id = key_id;
    delta.period = d->period;
    delta.day = day_of(period_start(d->period));  // UTC until the flusher knows the clinic's zone
    delta.requests = d->requests.load(std::memory_order_relaxed) - d->flushed_requests;
    delta.client_errors = d->client_errors.load(std::memory_order_relaxed) - d->flushed_client_errors;
    delta.server_errors = d->server_errors.load(std::memory_order_relaxed) - d->flushed_server_errors;
    delta.rate_limited = d->rate_limited.load(std::memory_order_relaxed) - d->flushed_rate_limited;
    delta.source = d.get();
    if (delta.requests || delta.client_errors || delta.server_errors || delta.rate_limited)
      out.push_back(delta);
  }
}

void KeyUsage::mark_flushed(const UsageDelta& d) noexcept {
  d.source->flushed_requests += d.requests;
  d.source->flushed_client_errors += d.client_errors;
  d.source->flushed_server_errors += d.server_errors;
  d.source->flushed_rate_limited += d.rate_limited;
}

void KeyUsage::prune(std::chrono::steady_clock::time_point now, std::chrono::seconds after) {
  std::lock_guard guard(mutex_);
  PeriodCounters* current = current_.load(std::memory_order_acquire);
  std::erase_if(periods_, [&](const std::unique_ptr<PeriodCounters>& d) {
    if (d.get() == current) {
      d->retired_since = {};
      return false;
    }
    if (d->retired_since == std::chrono::steady_clock::time_point{}) {
      d->retired_since = now;
      return false;
    }
    const bool flushed = d->requests.load() == d->flushed_requests &&
                         d->client_errors.load() == d->flushed_client_errors &&
                         d->server_errors.load() == d->flushed_server_errors &&
                         d->rate_limited.load() == d->flushed_rate_limited;
    return flushed && now - d->retired_since > after;
  });
}

}  // namespace mdp::api_access
