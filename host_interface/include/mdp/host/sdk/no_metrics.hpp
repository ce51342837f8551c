// A Metrics service that discards everything: what a host without metrics returns from
// HostServices::metrics() (services.hpp, "Metrics"), and the "metrics off" side of benchmarks.
// Header-only, so a host needs no library for it.
//
//   mdp::host::sdk::NoMetrics no_metrics;                    // one per host, outlives plugins
//   mdp::host::Metrics& metrics() noexcept override { return no_metrics; }
//
// Every registration answers one shared family and every `with` one shared series, whose
// updates do nothing: no lock, no allocation, thread-safe by having no state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mdp/host/services.hpp"

namespace mdp::host::sdk {

class NoMetrics final : public Metrics {
 public:
  CounterFamily& counter(std::string_view, std::string_view,
                         const std::vector<std::string>&) noexcept override {
    return counters_;
  }
  GaugeFamily& gauge(std::string_view, std::string_view,
                     const std::vector<std::string>&) noexcept override {
    return gauges_;
  }
  HistogramFamily& histogram(std::string_view, std::string_view, const std::vector<std::string>&,
                             const std::vector<double>&) noexcept override {
    return histograms_;
  }

 private:
  struct NullCounter final : Counter {
    void add(double) noexcept override {}
  };
  struct NullGauge final : Gauge {
    void set(double) noexcept override {}
    void add(double) noexcept override {}
  };
  struct NullHistogram final : Histogram {
    void observe(double) noexcept override {}
  };
  struct NullCounters final : CounterFamily {
    Counter& with(const std::vector<std::string>&) noexcept override { return series; }
    NullCounter series;
  };
  struct NullGauges final : GaugeFamily {
    Gauge& with(const std::vector<std::string>&) noexcept override { return series; }
    NullGauge series;
  };
  struct NullHistograms final : HistogramFamily {
    Histogram& with(const std::vector<std::string>&) noexcept override { return series; }
    NullHistogram series;
  };

  NullCounters counters_;
  NullGauges gauges_;
  NullHistograms histograms_;
};

}  // namespace mdp::host::sdk
