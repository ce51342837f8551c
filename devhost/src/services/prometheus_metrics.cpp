#include "services/prometheus_metrics.hpp"

#include <array>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <variant>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "mdp/host/sdk/no_metrics.hpp"

namespace mdp::devhost {

namespace {

bool name_char(char c, bool first, bool colon_ok) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
  return alpha || (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view s, bool colon_ok) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!name_char(s[i], i == 0, colon_ok)) return false;
  return true;
}

bool valid_label_name(std::string_view s) {
  return valid_name(s, false) && s.substr(0, 2) != "__";
}

bool valid_bounds(const std::vector<double>& b) {
  for (std::size_t i = 0; i < b.size(); ++i)
    if (!std::isfinite(b[i]) || (i > 0 && b[i] <= b[i - 1])) return false;
  return true;
}

// Each thread that adds to counters gets one of kStripes slots, round robin, for its life.
constexpr std::size_t kStripes = 16;
std::size_t thread_stripe() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
  return mine;
}

// One series: a host::Counter/Gauge/Histogram over prometheus-cpp's object, which the registry
// owns and the exposition reads.
//
// Counters are added to on every API request from every server thread, so a counter is striped:
// each thread adds to its own cache line (no line bounces between cores, as one shared atomic
// would under load), and publish() folds the stripes into prometheus-cpp's counter before each
// exposition. The stripes only grow, so publishing the difference keeps it monotonic.
class CounterSeries final : public host::Counter {
 public:
  explicit CounterSeries(prometheus::Counter& c) : c_(c) {}
  void add(double amount) noexcept override {
    if (!(amount >= 0) || !std::isfinite(amount)) return;
    std::atomic<double>& slot = stripes_[thread_stripe()].value;
    double v = slot.load(std::memory_order_relaxed);
    while (!slot.compare_exchange_weak(v, v + amount, std::memory_order_relaxed)) {
    }
  }
  // Under the registry's mutex (one publisher at a time).
  void publish() noexcept {
    double total = 0;
    for (const auto& s : stripes_) total += s.value.load(std::memory_order_relaxed);
    if (total > published_) c_.Increment(total - published_);
    published_ = total;
  }

 private:
  struct alignas(64) Stripe {
    std::atomic<double> value{0};
  };
  prometheus::Counter& c_;
  std::array<Stripe, kStripes> stripes_;
  double published_ = 0;
};

class GaugeSeries final : public host::Gauge {
 public:
  explicit GaugeSeries(prometheus::Gauge& g) : g_(g) {}
  void set(double v) noexcept override {
    if (std::isfinite(v)) g_.Set(v);
  }
  void add(double v) noexcept override {
    if (std::isfinite(v)) g_.Increment(v);
  }

 private:
  prometheus::Gauge& g_;
};

class HistogramSeries final : public host::Histogram {
 public:
  explicit HistogramSeries(prometheus::Histogram& h) : h_(h) {}
  void observe(double v) noexcept override {
    if (!std::isnan(v)) {
      try {
        h_.Observe(v);  // locks a std::mutex, which can throw std::system_error in theory
      } catch (...) {
      }
    }
  }

 private:
  prometheus::Histogram& h_;
};

}  // namespace

struct PrometheusMetrics::Impl {
  // A registered family, whatever its type: what it was registered with (to tell a repeated
  // registration from a clash) and its series by label values.
  template <class Prom, class Series, class Base>
  struct Family final : Base {
    using HostSeries = std::remove_reference_t<decltype(std::declval<Base&>().with({}))>;

    Family(Impl& impl, prometheus::Family<Prom>& f, std::string name, std::string help,
           std::vector<std::string> labels, std::vector<double> bounds)
        : impl_(impl), family(f), name(std::move(name)), help(std::move(help)),
          label_names(std::move(labels)), bounds(std::move(bounds)) {}

    HostSeries& with(const std::vector<std::string>& values) noexcept override {
      std::lock_guard guard(impl_.mutex);
      try {
        if (values.size() != label_names.size()) {
          impl_.refuse("series of " + name + ": " + std::to_string(values.size()) +
                       " label value(s) for " + std::to_string(label_names.size()) + " label(s)");
          return impl_.discard_series<HostSeries>();
        }
        auto it = series.find(values);
        if (it != series.end()) return *it->second;
        prometheus::Labels labels;
        for (std::size_t i = 0; i < values.size(); ++i) labels.emplace(label_names[i], values[i]);
        Prom* p = nullptr;
        if constexpr (std::is_same_v<Prom, prometheus::Histogram>)
          p = &family.Add(labels, prometheus::Histogram::BucketBoundaries(bounds));
        else
          p = &family.Add(labels);
        return *series.emplace(values, std::make_unique<Series>(*p)).first->second;
      } catch (const std::exception& e) {
        impl_.refuse("series of " + name + ": " + e.what());
      } catch (...) {
      }
      return impl_.discard_series<HostSeries>();
    }

    Impl& impl_;
    prometheus::Family<Prom>& family;
    const std::string name, help;
    const std::vector<std::string> label_names;
    const std::vector<double> bounds;
    std::map<std::vector<std::string>, std::unique_ptr<Series>> series;
  };
  using CounterFamily = Family<prometheus::Counter, CounterSeries, host::CounterFamily>;
  using GaugeFamily = Family<prometheus::Gauge, GaugeSeries, host::GaugeFamily>;
  using HistogramFamily = Family<prometheus::Histogram, HistogramSeries, host::HistogramFamily>;

  explicit Impl(host::Log& l) : log(l) {}

  void refuse(const std::string& why) noexcept {
    log.write(host::LogLevel::warning, "metrics: refused " + why + "; its updates are discarded");
  }

  template <class HostSeries>
  HostSeries& discard_series() noexcept {
    if constexpr (std::is_same_v<HostSeries, host::Counter>) return discard.counter("", "", {}).with({});
    else if constexpr (std::is_same_v<HostSeries, host::Gauge>) return discard.gauge("", "", {}).with({});
    else return discard.histogram("", "", {}, {}).with({});
  }

  // Registers, or finds the same registration again; nullptr (logged) when refused.
  template <class F, class Prom>
  F* family(std::string_view name_in, std::string_view help_in,
            const std::vector<std::string>& labels, const std::vector<double>& bounds,
            prometheus::detail::Builder<Prom> builder) noexcept {
    std::lock_guard guard(mutex);
    try {
      const std::string name(name_in), help(help_in);
      if (!valid_name(name, true)) {
        refuse("metric name \"" + name + "\" (must match [a-zA-Z_:][a-zA-Z0-9_:]*)");
        return nullptr;
      }
      for (const auto& l : labels)
        if (!valid_label_name(l)) {
          refuse(name + ": label name \"" + l + "\"");
          return nullptr;
        }
      if (!valid_bounds(bounds)) {
        refuse(name + ": bucket bounds must be finite and strictly increasing");
        return nullptr;
      }
      auto it = families.find(name);
      if (it != families.end()) {
        F* const* same = std::get_if<F*>(&it->second);
        if (same != nullptr && (*same)->help == help && (*same)->label_names == labels &&
            (*same)->bounds == bounds)
          return *same;
        refuse(name + ": already registered with another type, help, labels or buckets");
        return nullptr;
      }
      auto& prom = builder.Name(name).Help(help).Register(*registry);
      auto owned = std::make_unique<F>(*this, prom, name, help, labels, bounds);
      F* f = owned.get();
      owned_.push_back(std::shared_ptr<void>(owned.release(), [](void* p) { delete static_cast<F*>(p); }));
      families.emplace(name, f);
      return f;
    } catch (const std::exception& e) {
      refuse(std::string(name_in) + ": " + e.what());
    } catch (...) {
    }
    return nullptr;
  }

  host::Log& log;
  std::mutex mutex;  // registrations and series resolution; never taken by an update
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::map<std::string, std::variant<CounterFamily*, GaugeFamily*, HistogramFamily*>> families;
  std::vector<std::shared_ptr<void>> owned_;
  host::sdk::NoMetrics discard;
};

PrometheusMetrics::PrometheusMetrics(host::Log& log) : impl_(std::make_unique<Impl>(log)) {}
PrometheusMetrics::~PrometheusMetrics() = default;

host::CounterFamily& PrometheusMetrics::counter(std::string_view name, std::string_view help,
                                                const std::vector<std::string>& labels) noexcept {
  if (auto* f = impl_->family<Impl::CounterFamily>(name, help, labels, {}, prometheus::BuildCounter()))
    return *f;
  return impl_->discard.counter(name, help, labels);
}

host::GaugeFamily& PrometheusMetrics::gauge(std::string_view name, std::string_view help,
                                            const std::vector<std::string>& labels) noexcept {
  if (auto* f = impl_->family<Impl::GaugeFamily>(name, help, labels, {}, prometheus::BuildGauge()))
    return *f;
  return impl_->discard.gauge(name, help, labels);
}

host::HistogramFamily& PrometheusMetrics::histogram(std::string_view name, std::string_view help,
                                                    const std::vector<std::string>& labels,
                                                    const std::vector<double>& bounds) noexcept {
  if (auto* f = impl_->family<Impl::HistogramFamily>(name, help, labels, bounds,
                                                     prometheus::BuildHistogram()))
    return *f;
  return impl_->discard.histogram(name, help, labels, bounds);
}

std::string PrometheusMetrics::exposition() const {
  {
    std::lock_guard guard(impl_->mutex);
    for (auto& [name, family] : impl_->families)
      if (auto* const* counters = std::get_if<Impl::CounterFamily*>(&family))
        for (auto& [values, series] : (*counters)->series) series->publish();
  }
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace mdp::devhost
