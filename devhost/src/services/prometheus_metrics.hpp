// The devhost's Metrics service (services.hpp, "Metrics"), backed by prometheus-cpp: one
// registry for the whole host process, shared by every plugin, exported in the Prometheus text
// format by GET /metrics (app/application.cpp). prometheus-cpp stays behind this header.
//
// Costs: Counter::add is an uncontended atomic add on the calling thread's stripe of the counter
// (folded into prometheus-cpp's counter when the exposition is read); Gauge::set/add is
// prometheus-cpp's atomic compare-exchange; Histogram::observe takes prometheus-cpp's per-series
// mutex. Registration and `with` take this object's mutex and allocate: plugins do them at load.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mdp/host/services.hpp"

namespace mdp::devhost {

class PrometheusMetrics final : public host::Metrics {
 public:
  // `log` gets one line per refused registration; it must outlive this object.
  explicit PrometheusMetrics(host::Log& log);
  ~PrometheusMetrics() override;
  PrometheusMetrics(const PrometheusMetrics&) = delete;
  PrometheusMetrics& operator=(const PrometheusMetrics&) = delete;

  host::CounterFamily& counter(std::string_view name, std::string_view help,
                               const std::vector<std::string>& label_names) noexcept override;
  host::GaugeFamily& gauge(std::string_view name, std::string_view help,
                           const std::vector<std::string>& label_names) noexcept override;
  host::HistogramFamily& histogram(std::string_view name, std::string_view help,
                                   const std::vector<std::string>& label_names,
                                   const std::vector<double>& bucket_bounds) noexcept override;

  // Every series, in the Prometheus text exposition format 0.0.4. Any thread.
  std::string exposition() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The Content-Type of exposition().
inline constexpr std::string_view kPrometheusTextType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace mdp::devhost
