#include "usage/usage_flusher.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <tuple>

#include "util/batch_id.hpp"

namespace mdp::api_access {

std::optional<UsageFlusher::Batch> UsageFlusher::claim() {
  Batch b;
  std::map<host::ClinicId, std::optional<ClinicZone>> zones;  // one lookup per clinic per flush
  for (CacheEntry* e : cache_.entries()) {
    auto z = zones.find(e->clinic_id);
    if (z == zones.end()) z = zones.emplace(e->clinic_id, zones_.find(e->clinic_id)).first;
    if (!z->second) continue;  // which day is it there? Unknown for now: keep counting in memory
    const std::size_t before = b.deltas.size();
    e->usage.collect(e->key_id, b.deltas);
    for (std::size_t i = before; i < b.deltas.size(); ++i) {
      KeyUsage::mark_flushed(b.deltas[i]);
      b.deltas[i].day = z->second->day_of(period_start(b.deltas[i].period));
    }
    if (scope_names_ != nullptr) e->scopes_used.collect(e->key_id, *scope_names_, b.scopes);
    const Micros lu = e->usage.last_used();
    auto client = e->usage.take_client();
    if (lu > e->usage.flushed_last_used || client) {
      b.last_used.push_back(LastUse{e->key_id, lu, std::move(client)});
      e->usage.flushed_last_used = lu;
    }
  }
  if (b.deltas.empty() && b.last_used.empty() && b.scopes.empty()) return std::nullopt;
  // One row per key and day: a day's quarters summed.
  std::sort(b.deltas.begin(), b.deltas.end(), [](const UsageDelta& x, const UsageDelta& y) {
    return std::tie(x.key_id, x.day) < std::tie(y.key_id, y.day);
  });
  std::vector<UsageDelta> days;
  for (auto& d : b.deltas) {
    d.source = nullptr;  // the batch owns its counts now
    if (!days.empty() && days.back().key_id == d.key_id && days.back().day == d.day) {
      days.back().requests += d.requests;
      days.back().client_errors += d.client_errors;
      days.back().server_errors += d.server_errors;
      days.back().rate_limited += d.rate_limited;
    } else {
      days.push_back(d);
    }
  }
  b.deltas = std::move(days);
  b.id = new_batch_id();
  return b;
}

bool UsageFlusher::send(const Batch& b) {
  const auto started = std::chrono::steady_clock::now();
  bool ok = false;
  try {
    store_.write_batch(b.id, b.deltas, b.last_used, b.scopes);  // false: it had landed already
    ok = true;
  } catch (const std::exception& ex) {
    if (!failing_)
      log_.write(host::LogLevel::warning,
                 std::string("usage flush failed, counts kept and retried: ") + ex.what());
  } catch (...) {
  }
  if (metrics_ != nullptr) {
    metrics_->flush_seconds.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (!ok) metrics_->flush_failures.add(1);
  }
  if (ok && failing_) log_.write(host::LogLevel::info, "usage flush recovered; pending counts written");
  failing_ = !ok;
  return ok;
}

bool UsageFlusher::flush() noexcept {
  std::lock_guard guard(mutex_);
  try {
    if (outstanding_) {
      if (!send(*outstanding_)) {
        report(false);
        return false;
      }
      outstanding_.reset();
    }
    outstanding_ = claim();
    if (outstanding_) {
      if (!send(*outstanding_)) {
        report(false);
        return false;
      }
      outstanding_.reset();
    }
    report(true);
    const auto now = std::chrono::steady_clock::now();
    for (CacheEntry* e : cache_.entries()) e->usage.prune(now, std::chrono::seconds(30));
    return true;
  } catch (...) {
    // Allocation failed while claiming: what was claimed is in outstanding_ or still counted.
    failing_ = true;
    report(false);
    return false;
  }
}

void UsageFlusher::report(bool written) noexcept {
  if (metrics_ == nullptr) return;
  // After a flush that wrote everything it claimed, nothing waits for the database (what came
  // in meanwhile is the next flush's); after a failure, everything counted waits.
  const Pending p = written ? Pending{} : pending_locked();
  metrics_->pending_requests.set(static_cast<double>(p.requests));
  metrics_->pending_key_days.set(static_cast<double>(p.key_days));
}

UsageFlusher::Pending UsageFlusher::pending() noexcept {
  std::lock_guard guard(mutex_);
  return pending_locked();
}

UsageFlusher::Pending UsageFlusher::pending_locked() noexcept {
  Pending p;
  try {
    std::vector<UsageDelta> unclaimed;
    for (CacheEntry* e : cache_.entries()) e->usage.collect(e->key_id, unclaimed);
    for (const auto* list : {&unclaimed, outstanding_ ? &outstanding_->deltas : nullptr}) {
      if (list == nullptr) continue;
      for (const auto& d : *list) p.requests += d.requests + d.rate_limited;
      p.key_days += list->size();
    }
  } catch (...) {
  }
  return p;
}

}  // namespace mdp::api_access
