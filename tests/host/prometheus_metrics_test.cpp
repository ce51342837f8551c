// The devhost's Metrics service (services/prometheus_metrics.hpp) against the contract's rules
// (services.hpp, "Metrics"): a repeated registration returns the same family and series; a
// registration it cannot honour is logged and discards its updates without disturbing others;
// updates from many threads add up exactly; the exposition is the Prometheus text format.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "services/prometheus_metrics.hpp"
#include "support/metrics_text.hpp"

namespace mdp::devhost {
namespace {

using mdp::test::sample;

class LinesLog final : public host::Log {
 public:
  void write(host::LogLevel, std::string_view m) noexcept override {
    std::lock_guard g(mutex_);
    lines_.emplace_back(m);
  }
  std::string all() {
    std::lock_guard g(mutex_);
    std::string out;
    for (const auto& l : lines_) out += l + "\n";
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

TEST(PrometheusMetrics, ARepeatedRegistrationReturnsTheSameFamilyAndSeries) {
  LinesLog log;
  PrometheusMetrics m(log);
  auto& a = m.counter("test_requests_total", "Requests", {"code"});
  auto& b = m.counter("test_requests_total", "Requests", {"code"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.with({"ok"}), &b.with({"ok"}));
  a.with({"ok"}).add(2);
  b.with({"ok"}).add(1.5);
  a.with({"failed"}).add(1);
  const std::string text = m.exposition();
  EXPECT_NE(text.find("# TYPE test_requests_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find("# HELP test_requests_total Requests"), std::string::npos) << text;
  EXPECT_EQ(sample(text, "test_requests_total{code=\"ok\"}"), 3.5);
  EXPECT_EQ(sample(text, "test_requests_total{code=\"failed\"}"), 1.0);
  EXPECT_EQ(log.all(), "");
}

TEST(PrometheusMetrics, GaugesAndHistogramsReportWhatTheyReceived) {
  LinesLog log;
  PrometheusMetrics m(log);
  auto& g = m.gauge("test_pending", "Pending", {}).with({});
  g.set(7);
  g.add(-2);
  auto& h = m.histogram("test_seconds", "Durations", {"kind"}, {0.1, 1}).with({"a"});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(3);
  const std::string text = m.exposition();
  EXPECT_EQ(sample(text, "test_pending"), 5.0);
  EXPECT_EQ(sample(text, "test_seconds_count{kind=\"a\"}"), 3.0);
  EXPECT_DOUBLE_EQ(sample(text, "test_seconds_sum{kind=\"a\"}").value_or(-1), 3.55);
  EXPECT_EQ(sample(text, "test_seconds_bucket{kind=\"a\",le=\"0.1\"}"), 1.0) << text;
  EXPECT_EQ(sample(text, "test_seconds_bucket{kind=\"a\",le=\"1\"}"), 2.0) << text;
  EXPECT_EQ(sample(text, "test_seconds_bucket{kind=\"a\",le=\"+Inf\"}"), 3.0) << text;
}

TEST(PrometheusMetrics, RegistrationsItCannotHonourAreLoggedAndDiscarded) {
  LinesLog log;
  PrometheusMetrics m(log);
  m.counter("test_kept_total", "Kept", {"code"}).with({"x"}).add(1);

  m.counter("bad name", "Invalid name", {}).with({}).add(1);
  m.counter("test_label_total", "Invalid label", {"__reserved"}).with({"v"}).add(1);
  m.gauge("test_kept_total", "Same name, another type", {}).with({}).set(9);
  m.counter("test_kept_total", "Kept", {"other"}).with({"y"}).add(5);  // other labels
  m.counter("test_kept_total", "Kept", {"code"}).with({"x", "extra"}).add(5);  // wrong count
  m.histogram("test_hist_seconds", "Unordered bounds", {}, {1, 0.5}).with({}).observe(1);
  m.histogram("test_inf_seconds", "Infinite bound", {}, {1, std::numeric_limits<double>::infinity()})
      .with({}).observe(1);

  const std::string text = m.exposition();
  EXPECT_EQ(sample(text, "test_kept_total{code=\"x\"}"), 1.0) << text;
  for (const char* absent : {"bad name", "test_label_total", "test_hist_seconds", "test_inf_seconds",
                             "other=", "extra"})
    EXPECT_EQ(text.find(absent), std::string::npos) << absent << " in\n" << text;
  const std::string lines = log.all();
  for (const char* named : {"\"bad name\"", "__reserved", "test_kept_total: already registered",
                            "series of test_kept_total: 2 label value(s) for 1 label(s)",
                            "test_hist_seconds: bucket bounds", "test_inf_seconds: bucket bounds"})
    EXPECT_NE(lines.find(named), std::string::npos) << named << " not in the log:\n" << lines;
}

TEST(PrometheusMetrics, NegativeAndNonFiniteUpdatesAreIgnored) {
  LinesLog log;
  PrometheusMetrics m(log);
  auto& c = m.counter("test_total", "Counter", {}).with({});
  c.add(2);
  c.add(-1);
  c.add(std::nan(""));
  c.add(std::numeric_limits<double>::infinity());
  auto& g = m.gauge("test_gauge", "Gauge", {}).with({});
  g.set(4);
  g.set(std::nan(""));
  const std::string text = m.exposition();
  EXPECT_EQ(sample(text, "test_total"), 2.0);
  EXPECT_EQ(sample(text, "test_gauge"), 4.0);
}

TEST(PrometheusMetrics, UpdatesFromManyThreadsAddUpExactly) {
  LinesLog log;
  PrometheusMetrics m(log);
  auto& c = m.counter("test_total", "Counter", {}).with({});
  auto& h = m.histogram("test_seconds", "Histogram", {}, {1}).with({});
  constexpr int kThreads = 4, kEach = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        c.add(1);
        if (i % 10 == 0) h.observe(0.5);
      }
    });
  for (auto& t : threads) t.join();
  const std::string text = m.exposition();
  EXPECT_EQ(sample(text, "test_total"), double(kThreads) * kEach);
  EXPECT_EQ(sample(text, "test_seconds_count"), double(kThreads) * kEach / 10);
}

}  // namespace
}  // namespace mdp::devhost
