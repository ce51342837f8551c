// The per-key rate-limit counter (auth/rate_window.hpp): fixed windows aligned to the epoch,
// the exact refusal after N, the reset, what the other processes admitted, and many threads on
// one key admitting exactly N.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "auth/rate_window.hpp"

namespace {

using mdp::api_access::kMicrosPerSecond;
using mdp::api_access::Micros;
using mdp::api_access::RateWindow;

// 2026-12-01T10:00:00Z, a multiple of 60 s.
constexpr Micros kT0 = 1'796'119'200LL * kMicrosPerSecond;

TEST(RateWindow, AdmitsExactlyNPerWindowThenRefusesUntilItEnds) {
  RateWindow w;
  for (std::uint32_t i = 0; i < 5; ++i) {
    const auto v = w.admit(5, 60, kT0 + i * kMicrosPerSecond);
    ASSERT_TRUE(v.allowed) << i;
    EXPECT_EQ(v.remaining, 4 - i);
    EXPECT_EQ(v.limit, 5u);
    EXPECT_EQ(v.per_seconds, 60u);
    EXPECT_EQ(v.reset_seconds, 60 - i);
  }
  auto v = w.admit(5, 60, kT0 + 10 * kMicrosPerSecond + 1);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.remaining, 0u);
  EXPECT_EQ(v.reset_seconds, 50u);  // 49.999999 s, rounded up
  v = w.admit(5, 60, kT0 + 60 * kMicrosPerSecond - 1);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reset_seconds, 1u);
  // The next window starts afresh.
  v = w.admit(5, 60, kT0 + 60 * kMicrosPerSecond);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.remaining, 4u);
  EXPECT_EQ(v.reset_seconds, 60u);
}

TEST(RateWindow, PeekCountsNothing) {
  RateWindow w;
  EXPECT_TRUE(w.peek(1, 10, kT0).allowed);
  EXPECT_EQ(w.peek(1, 10, kT0).remaining, 1u);
  EXPECT_TRUE(w.admit(1, 10, kT0).allowed);
  const auto v = w.peek(1, 10, kT0);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.remaining, 0u);
  EXPECT_FALSE(w.admit(1, 10, kT0).allowed);
}

TEST(RateWindow, OtherProcessesCountInTheirWindowOnly) {
  RateWindow w;
  const std::int64_t start = kT0 / kMicrosPerSecond;
  w.set_others(start, 8);
  EXPECT_EQ(w.peek(10, 60, kT0).remaining, 2u);
  EXPECT_TRUE(w.admit(10, 60, kT0).allowed);
  EXPECT_TRUE(w.admit(10, 60, kT0).allowed);
  EXPECT_FALSE(w.admit(10, 60, kT0).allowed);
  // A count from an older window no longer matters.
  EXPECT_TRUE(w.admit(10, 60, kT0 + 60 * kMicrosPerSecond).allowed);
  std::int64_t s = 0;
  std::uint32_t per = 0;
  std::uint64_t n = 0;
  w.local(s, per, n);
  EXPECT_EQ(s, start + 60);
  EXPECT_EQ(per, 60u);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(w.local_count(start), 0u);
}

TEST(RateWindow, ALimitChangeTakesEffectOnTheNextRequest) {
  RateWindow w;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(w.admit(100, 3600, kT0).allowed);
  EXPECT_FALSE(w.admit(3, 3600, kT0).allowed);  // lowered to 3: already used up
  EXPECT_TRUE(w.admit(4, 3600, kT0).allowed);
}

TEST(RateWindow, ConcurrentRequestsOnOneKeyAdmitExactlyTheLimit) {
  RateWindow w;
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i)
        if (w.admit(7777, 60, kT0).allowed) admitted.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 7777);
}

}  // namespace
