// The devhost's clocks. SystemClock is what production hosts use; ManualClock backs the
// devhost's `--test-clock` mode (POST /__test/clock) and unit tests that must move time for key
// expiry and per-day usage. Both are safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "mdp/host/services.hpp"

namespace mdp::devhost {

class SystemClock final : public host::Clock {
 public:
  host::TimePoint now() const noexcept override { return std::chrono::system_clock::now(); }
};

// Starts at the real "now" and then moves only when told to. Stored as nanoseconds since the
// epoch in one atomic, so readers on the hot path never take a lock.
class ManualClock final : public host::Clock {
 public:
  ManualClock() noexcept : ManualClock(std::chrono::system_clock::now()) {}
  explicit ManualClock(host::TimePoint start) noexcept : ns_(to_ns(start)) {}

  host::TimePoint now() const noexcept override {
    return host::TimePoint(std::chrono::duration_cast<host::TimePoint::duration>(
        std::chrono::nanoseconds(ns_.load(std::memory_order_acquire))));
  }
  void set(host::TimePoint t) noexcept { ns_.store(to_ns(t), std::memory_order_release); }
  void advance(std::chrono::nanoseconds by) noexcept {
    ns_.fetch_add(by.count(), std::memory_order_acq_rel);
  }

 private:
  static std::int64_t to_ns(host::TimePoint t) noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  std::atomic<std::int64_t> ns_;
};

}  // namespace mdp::devhost
