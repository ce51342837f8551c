#include "disclosure/disclosure_recorder.hpp"

#include <functional>
#include <thread>

#include "disclosure/disclosure_store.hpp"
#include "util/batch_id.hpp"

namespace mdp::api_access {

namespace {

// A thread's shard: its id mixed (pthread ids are page-aligned addresses: the low bits are 0).
std::size_t shard_of_this_thread() noexcept {
  const std::uint64_t h = std::hash<std::thread::id>{}(std::this_thread::get_id());
  return static_cast<std::size_t>((h * 0x9E3779B97F4A7C15ull) >> 60) % DisclosureRecorder::kShards;
}

}  // namespace

std::optional<std::uint8_t> DisclosureRecorder::type_index(std::string_view type) noexcept {
  if (type.empty() || type.size() > kMaxTypeLength) return std::nullopt;
  std::size_t n = type_count_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < n; ++i)
    if (types_[i] == type) return static_cast<std::uint8_t>(i);
  try {
    std::lock_guard g(types_mutex_);
    n = type_count_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < n; ++i)
      if (types_[i] == type) return static_cast<std::uint8_t>(i);
    if (n == kMaxTypes) return std::nullopt;
    types_[n] = std::string(type);
    type_count_.store(n + 1, std::memory_order_release);
    return static_cast<std::uint8_t>(n);
  } catch (...) {
    return std::nullopt;
  }
}

void DisclosureRecorder::record(std::int64_t key_id, Micros now, const host::RecordTouch* records,
                                std::size_t count) noexcept {
  if (records == nullptr || count == 0) return;
  const DayNumber day = day_of(now);
  Shard& shard = shards_[shard_of_this_thread()];
  try {
    std::lock_guard g(shard.mutex);
    for (std::size_t i = 0; i < count; ++i) {
      const host::RecordTouch& r = records[i];
      if (r.access != host::RecordAccess::read && r.access != host::RecordAccess::write) continue;
      const auto type = type_index(r.type);
      if (!type) continue;
      Agg& a = shard.entries[Key{key_id, r.id, day, *type, static_cast<std::uint8_t>(r.access)}];
      if (a.requests == 0 || now < a.first_at) a.first_at = now;
      if (now > a.last_at) a.last_at = now;
      ++a.requests;
    }
  } catch (...) {
    // Out of memory: this report goes unrecorded rather than failing the request.
  }
}

std::optional<DisclosureRecorder::Batch> DisclosureRecorder::claim() {
  std::unordered_map<Key, Agg, KeyHash> all;
  for (auto& shard : shards_) {
    std::unordered_map<Key, Agg, KeyHash> taken;
    {
      std::lock_guard g(shard.mutex);
      taken.swap(shard.entries);
    }
    for (const auto& [k, a] : taken) {
      Agg& m = all[k];
      m.first_at = m.requests == 0 ? a.first_at : std::min(m.first_at, a.first_at);
      m.last_at = std::max(m.last_at, a.last_at);
      m.requests += a.requests;
    }
  }
  if (all.empty()) return std::nullopt;
  Batch b;
  b.id = new_batch_id();
  b.rows.reserve(all.size());
  const std::size_t types = type_count_.load(std::memory_order_acquire);
  for (const auto& [k, a] : all) {
    if (k.type >= types) continue;
    b.rows.push_back(DisclosureRow{k.key_id, k.day, types_[k.type], k.record_id,
                                   static_cast<host::RecordAccess>(k.access), a.requests, a.first_at, a.last_at});
  }
  return b;
}

bool DisclosureRecorder::send(const Batch& b) {
  try {
    store_.write_batch(b.id, b.rows);  // false: it had landed already
    if (failing_) log_.write(host::LogLevel::info, "disclosure flush recovered; pending records written");
    failing_ = false;
    return true;
  } catch (const std::exception& e) {
    if (!failing_)
      log_.write(host::LogLevel::warning, std::string("disclosure flush failed, records kept and retried: ") + e.what());
  } catch (...) {
  }
  failing_ = true;
  return false;
}

bool DisclosureRecorder::flush() noexcept {
  std::lock_guard g(flush_mutex_);
  try {
    if (outstanding_) {
      if (!send(*outstanding_)) return false;
      outstanding_.reset();
    }
    outstanding_ = claim();
    if (outstanding_) {
      if (!send(*outstanding_)) return false;
      outstanding_.reset();
    }
    return true;
  } catch (...) {
    // Allocation failed while claiming: what was taken from a shard and not yet in a batch is
    // lost with the exception; log it once.
    if (!failing_) log_.write(host::LogLevel::error, "disclosure flush ran out of memory");
    failing_ = true;
    return false;
  }
}

std::size_t DisclosureRecorder::pending() noexcept {
  std::lock_guard g(flush_mutex_);
  std::size_t n = outstanding_ ? outstanding_->rows.size() : 0;
  for (auto& shard : shards_) {
    std::lock_guard s(shard.mutex);
    n += shard.entries.size();
  }
  return n;
}

}  // namespace mdp::api_access
