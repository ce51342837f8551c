#include "auth/rate_window.hpp"

namespace mdp::api_access {

namespace {
std::int64_t window_start(std::uint32_t per_seconds, Micros now) noexcept {
  const std::int64_t s = now / kMicrosPerSecond;
  return s - s % static_cast<std::int64_t>(per_seconds);
}
}  // namespace

RateVerdict RateWindow::verdict(bool allowed, std::uint32_t requests, std::uint32_t per_seconds,
                                std::uint64_t used, std::int64_t start, Micros now) noexcept {
  RateVerdict v;
  v.allowed = allowed;
  v.limit = requests;
  v.per_seconds = per_seconds;
  v.remaining = used >= requests ? 0 : static_cast<std::uint32_t>(requests - used);
  const Micros end = (start + per_seconds) * kMicrosPerSecond;
  const Micros left = end > now ? end - now : 0;
  v.reset_seconds = static_cast<std::uint32_t>((left + kMicrosPerSecond - 1) / kMicrosPerSecond);
  if (v.reset_seconds == 0) v.reset_seconds = 1;
  return v;
}

RateVerdict RateWindow::admit(std::uint32_t requests, std::uint32_t per_seconds, Micros now) noexcept {
  const std::int64_t start = window_start(per_seconds, now);
  const std::uint64_t o = others_.load(std::memory_order_relaxed);
  const std::uint64_t others = start_of(o) == start ? count_of(o) : 0;
  std::uint64_t w = mine_.load(std::memory_order_relaxed);
  while (true) {
    const std::uint64_t mine = start_of(w) == start ? count_of(w) : 0;
    if (mine + others >= requests) return verdict(false, requests, per_seconds, mine + others, start, now);
    if (mine_.compare_exchange_weak(w, pack(start, mine + 1), std::memory_order_relaxed)) {
      if (mine == 0) per_seconds_.store(per_seconds, std::memory_order_relaxed);  // a new window
      return verdict(true, requests, per_seconds, mine + 1 + others, start, now);
    }
  }
}

RateVerdict RateWindow::peek(std::uint32_t requests, std::uint32_t per_seconds, Micros now) const noexcept {
  const std::int64_t start = window_start(per_seconds, now);
  const std::uint64_t o = others_.load(std::memory_order_relaxed);
  const std::uint64_t w = mine_.load(std::memory_order_relaxed);
  const std::uint64_t used = (start_of(o) == start ? count_of(o) : 0) + (start_of(w) == start ? count_of(w) : 0);
  return verdict(used < requests, requests, per_seconds, used, start, now);
}

std::uint64_t RateWindow::local_count(std::int64_t start) const noexcept {
  const std::uint64_t w = mine_.load(std::memory_order_relaxed);
  return start_of(w) == start ? count_of(w) : 0;
}

void RateWindow::local(std::int64_t& start, std::uint32_t& per_seconds, std::uint64_t& count) const noexcept {
  const std::uint64_t w = mine_.load(std::memory_order_relaxed);
  start = start_of(w);
  count = count_of(w);
  per_seconds = per_seconds_.load(std::memory_order_relaxed);
}

void RateWindow::set_others(std::int64_t start, std::uint64_t count) noexcept {
  others_.store(pack(start, count), std::memory_order_relaxed);
}

}  // namespace mdp::api_access
