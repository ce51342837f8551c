#include "usage/spike.hpp"

namespace mdp::api_access {

Spike detect_spike(const std::vector<DayUsage>& days, DayNumber created_day) {
  Spike s;
  if (days.empty()) return s;
  const auto& today = days.back();
  std::uint64_t sum = 0;
  for (int i = static_cast<int>(days.size()) - 2; i >= 0 && s.baseline_days < kSpikeBaselineDays; --i) {
    if (days[i].day < created_day) break;
    sum += days[i].requests;
    ++s.baseline_days;
  }
  if (s.baseline_days == 0) return s;
  s.baseline = static_cast<double>(sum) / s.baseline_days;
  const double t = static_cast<double>(today.requests);
  s.spike = t >= kSpikeFactor * s.baseline && t >= s.baseline + static_cast<double>(kSpikeMinExtra);
  return s;
}

}  // namespace mdp::api_access
