#include "api_access_plugin.hpp"

#include <chrono>
#include <string>

#include "auth/request_hook.hpp"
#include "plugin_config.hpp"
#include "pages/api_keys_page.hpp"
#include "plugin_context.hpp"
#include "routes/admin_routes.hpp"
#include "routes/disclosure_routes.hpp"
#include "routes/leak_reports.hpp"

namespace mdp::api_access {

bool PluginContext::api_access_enabled(host::ClinicId clinic) const {
  switch (ask_plan(host.subscriptions(), clinic)) {
    case PlanVerdict::enabled: return true;
    case PlanVerdict::disabled: return false;
    case PlanVerdict::unavailable: break;
  }
  throw DatabaseUnavailable();
}

ApiAccessPlugin::ApiAccessPlugin() = default;

ApiAccessPlugin::~ApiAccessPlugin() { stop_background(); }

host::LoadResult ApiAccessPlugin::on_load(host::HostServices& host,
                                          host::Registrar& registrar) noexcept {
  try {
    PluginConfig config;
    try {
      config = read_config(host.settings());
    } catch (const std::invalid_argument& e) {
      return {false, std::string("api-access: ") + e.what()};
    }
    ctx_ = std::make_shared<PluginContext>(host, config);
    registrar.add_feature({kFeatureId, "API access", {"enterprise"}, "api_access"});
    for (auto& route : make_admin_routes(ctx_)) registrar.add_route(std::move(route));
    for (auto& route : make_disclosure_routes(ctx_)) registrar.add_route(std::move(route));
    registrar.add_route(make_leak_report_route(ctx_));  // public: no session
    hook_ = std::make_shared<RequestHook>(ctx_);
    registrar.set_api_hook(hook_);

    // Settings → Integrations → API Keys (plugin/src/pages/).
    registrar.add_settings_page(make_api_keys_page(ctx_));

    start_scope_counting();
    ctx_->feed.start();
    ctx_->rates.start();
    stopping_ = false;
    worker_ = std::thread([this] { run_background(); });
    return {};
  } catch (const std::exception& e) {
    return {false, std::string("api-access: ") + e.what()};
  } catch (...) {
    return {false, "api-access: unknown error while loading"};
  }
}

void ApiAccessPlugin::on_subscription_changed(host::ClinicId clinic) noexcept {
  if (ctx_) ctx_->plans.invalidate(clinic);
}

void ApiAccessPlugin::background_tick() noexcept {
  if (!ctx_) return;
  std::lock_guard guard(tick_mutex_);
  PluginContext& ctx = *ctx_;
  ctx.flush_usage();
  if (!scope_counting_started_) start_scope_counting();
  ctx.disclosures.flush();
  trim_disclosures(ctx);
  try {
    ctx.keys.sweep_expired(ctx.now());
  } catch (const std::exception& e) {
    ctx.host.log().write(host::LogLevel::warning, std::string("expiry sweep: ") + e.what());
  }
  // After the flush (it judges from what was just written), before the notifications (so
  // "revoked automatically" goes out in this round). This process's cache learns of a
  // revocation now; the others through the change feed.
  for (const KeyId id : ctx.rotation_finisher.tick(ctx.now()).revoked) {
    try {
      ctx.key_rules_changed(id);
    } catch (const std::exception&) {
      // The change feed brings it within its interval.
    }
  }
  ctx.notifier.tick(ctx.now());  // after the flush: the rules see today's requests
  if (++ticks_ % 600 == 0) {  // about every ten minutes
    try {
      ctx.keys.trim_changes();
      ctx.rates.trim();
      // Batch ids matter only until a failed flush is retried (seconds); keep a day.
      ctx.usage.trim_batches(to_micros(std::chrono::system_clock::now() - std::chrono::hours(24)));
      ctx.disclosure_store.trim_batches(to_micros(std::chrono::system_clock::now() - std::chrono::hours(24)));
    } catch (const std::exception& e) {
      ctx.host.log().write(host::LogLevel::warning, std::string("housekeeping: ") + e.what());
    }
  }
}

// Retention: once per host-clock day (and at the first round), delete the days past it.
void ApiAccessPlugin::trim_disclosures(PluginContext& ctx) noexcept {
  const DayNumber today = day_of(ctx.now());
  if (today == trimmed_day_) return;
  try {
    ctx.disclosure_store.trim_before(today - (ctx.config.disclosure_retention_days - 1));
    trimmed_day_ = today;
  } catch (const std::exception& e) {
    ctx.host.log().write(host::LogLevel::warning, std::string("disclosure retention: ") + e.what());
  }
}

// Least privilege needs to know since when scopes are counted: recorded at the first load of
// this version (any process); retried by the background thread if the database refused.
void ApiAccessPlugin::start_scope_counting() noexcept {
  try {
    ctx_->usage.start_scope_counting(ctx_->now_seconds());
    scope_counting_started_ = true;
  } catch (const std::exception& e) {
    ctx_->host.log().write(host::LogLevel::warning, std::string("scope counting start: ") + e.what());
  }
}

void ApiAccessPlugin::run_background() noexcept {
  std::unique_lock lock(worker_mutex_);
  while (!stopping_) {
    worker_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    background_tick();
    lock.lock();
  }
}

void ApiAccessPlugin::stop_background() noexcept {
  {
    std::lock_guard lock(worker_mutex_);
    stopping_ = true;
  }
  worker_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void ApiAccessPlugin::on_stop() noexcept {
  stop_background();
  if (!ctx_) return;
  ctx_->feed.stop();
  ctx_->rates.stop();
  // Graceful stop loses nothing: a few attempts, then say what was lost.
  bool flushed = false;
  for (int attempt = 0; attempt < 3 && !flushed; ++attempt) {
    flushed = ctx_->flush_usage();
    if (!flushed) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  bool disclosed = false;
  for (int attempt = 0; attempt < 3 && !disclosed; ++attempt) {
    disclosed = ctx_->disclosures.flush();
    if (!disclosed) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!disclosed)
    ctx_->host.log().write(host::LogLevel::error,
                           "disclosure flush at stop failed (database unavailable): " +
                               std::to_string(ctx_->disclosures.pending()) +
                               " record tally(ies) could not be written and are lost with this process");
  if (!flushed) {
    const auto lost = ctx_->flusher.pending();
    ctx_->host.log().write(
        host::LogLevel::error,
        "usage flush at stop failed (database unavailable): " + std::to_string(lost.requests) +
            " API request(s) counted in " + std::to_string(lost.key_days) +
            " key-day(s) could not be written and are lost with this process");
  }
  ctx_->loader.close();
}

}  // namespace mdp::api_access
