#include "usage/key_usage.hpp"

#include <algorithm>

namespace mdp::api_access {

DayCounters* KeyUsage::switch_day(DayNumber day) noexcept {
  try {
    std::lock_guard guard(mutex_);
    DayCounters* c = today_.load(std::memory_order_acquire);
    if (c != nullptr && c->day == day) return c;  // another thread switched first
    for (auto& d : days_)
      if (d->day == day) {
        today_.store(d.get(), std::memory_order_release);
        return d.get();
      }
    days_.push_back(std::make_unique<DayCounters>(day));
    today_.store(days_.back().get(), std::memory_order_release);
    return days_.back().get();
  } catch (...) {
    return nullptr;  // out of memory: the response goes uncounted rather than failing
  }
}

void KeyUsage::record(Micros now, int status) noexcept {
  const DayNumber day = day_of(now);
  DayCounters* c = today_.load(std::memory_order_acquire);
  if (c == nullptr || c->day != day) c = switch_day(day);
  if (c != nullptr) {
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

void KeyUsage::collect(std::int64_t key_id, std::vector<UsageDelta>& out) {
  std::lock_guard guard(mutex_);
  for (auto& d : days_) {
    UsageDelta delta;
    delta.key_id = key_id;
    delta.day = d->day;
    delta.requests = d->requests.load(std::memory_order_relaxed) - d->flushed_requests;
    delta.client_errors = d->client_errors.load(std::memory_order_relaxed) - d->flushed_client_errors;
    delta.server_errors = d->server_errors.load(std::memory_order_relaxed) - d->flushed_server_errors;
    delta.source = d.get();
    if (delta.requests || delta.client_errors || delta.server_errors) out.push_back(delta);
  }
}

void KeyUsage::mark_flushed(const UsageDelta& d) noexcept {
  d.source->flushed_requests += d.requests;
  d.source->flushed_client_errors += d.client_errors;
  d.source->flushed_server_errors += d.server_errors;
}

void KeyUsage::prune(std::chrono::steady_clock::time_point now, std::chrono::seconds after) {
  std::lock_guard guard(mutex_);
  DayCounters* current = today_.load(std::memory_order_acquire);
  std::erase_if(days_, [&](const std::unique_ptr<DayCounters>& d) {
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
                         d->server_errors.load() == d->flushed_server_errors;
    return flushed && now - d->retired_since > after;
  });
}

}  // namespace mdp::api_access
