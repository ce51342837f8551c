// Reading samples out of a Prometheus text exposition (GET /metrics, or the devhost's
// PrometheusMetrics::exposition()) in tests. Header-only: no library needed.
#pragma once

#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>

namespace mdp::test {

// The value of one sample. `series` is the metric name with its labels exactly as the exposition
// writes them (prometheus-cpp sorts labels by name), e.g.
//   mdp_api_access_decisions_total{code="allowed"}
//   mdp_api_access_key_lookup_seconds_count{outcome="found"}
// nullopt when the exposition has no such line.
inline std::optional<double> sample(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() + 1 && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ')
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
  }
  return std::nullopt;
}

// The same, with 0 for a missing line (for before/after differences).
inline double value_or_zero(const std::string& exposition, const std::string& series) {
  return sample(exposition, series).value_or(0.0);
}

}  // namespace mdp::test
