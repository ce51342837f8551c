// "A spike suggests a misconfigured integration": today's requests far above the key's recent
// days. One rule for the page's mark and the spike notification.
#pragma once

#include <cstdint>
#include <vector>

#include "usage/usage_store.hpp"

namespace mdp::api_access {

inline constexpr int kSpikeBaselineDays = 14;        // the recent days a spike is measured against
inline constexpr double kSpikeFactor = 3.0;          // today >= 3 × the recent daily mean ...
inline constexpr std::uint64_t kSpikeMinExtra = 20;  // ... and at least 20 requests above it

struct Spike {
  bool spike = false;
  double baseline = 0;  // mean requests per day over the recent days
  int baseline_days = 0;
};

// `days`: consecutive days, oldest first, the last one being the day judged. Only days since
// the key existed count, so a key created that day has no baseline and no spike.
Spike detect_spike(const std::vector<DayUsage>& days, DayNumber created_day);

}  // namespace mdp::api_access
