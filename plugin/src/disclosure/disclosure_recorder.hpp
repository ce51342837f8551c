// Disclosure accounting in memory: which records each key's requests read or changed, per UTC
// day, as the host reports them (ApiHook::on_api_records), until the flush writes them.
//
// Hot path: one call per report, from any number of request threads. Each thread is given one
// of kShards shards once (round robin), so threads rarely share a lock; the same (key, day,
// record, access) may then be counted in two shards, and the flush adds them up. A shard is a
// mutex and a hash map of small fixed keys; no allocation once an entry exists.
//
// Exactly once, through database faults, like usage (usage/usage_flusher.hpp): a flush moves
// every shard's entries into a batch with a random id and writes it in one transaction that also
// records the id; a failed batch is kept and sent again, under the same id, before anything
// newer. Memory stays bounded by distinct (key, day, record, access), not by requests.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mdp/host/api_hook.hpp"
#include "mdp/host/services.hpp"
#include "util/time_format.hpp"

namespace mdp::api_access {

class DisclosureStore;

// One row of api_access_disclosures, in memory.
struct DisclosureRow {
  std::int64_t key_id = 0;
  DayNumber day = 0;
  std::string record_type;
  std::int64_t record_id = 0;
  host::RecordAccess access = host::RecordAccess::read;
  std::uint64_t requests = 0;
  Micros first_at = 0, last_at = 0;
};

class DisclosureRecorder {
 public:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kMaxTypes = 16;       // distinct record types kept
  static constexpr std::size_t kMaxTypeLength = 32;  // longer type names are not recorded

  DisclosureRecorder(DisclosureStore& store, host::Log& log) : store_(store), log_(log) {}

  // Hot path. Records `count` touches by one request of `key_id` at `now`. Never throws.
  void record(std::int64_t key_id, Micros now, const host::RecordTouch* records, std::size_t count) noexcept;

  // Writes the outstanding batch, if any, then everything newer. False (logged once per outage)
  // when a write failed; nothing is lost then, the next flush retries.
  bool flush() noexcept;

  // Entries counted but not yet known to be written (for tests and the stop message).
  std::size_t pending() noexcept;

 private:
  struct Key {
    std::int64_t key_id;
    std::int64_t record_id;
    DayNumber day;
    std::uint8_t type;
    std::uint8_t access;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      std::uint64_t h = static_cast<std::uint64_t>(k.key_id) * 0x9E3779B97F4A7C15ull;
      h ^= static_cast<std::uint64_t>(k.record_id) + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
      h ^= (static_cast<std::uint64_t>(static_cast<std::uint32_t>(k.day)) << 16 | k.type << 8 | k.access) +
           (h << 6) + (h >> 2);
      return static_cast<std::size_t>(h);
    }
  };
  struct Agg {
    std::uint64_t requests = 0;
    Micros first_at = 0, last_at = 0;
  };
  struct alignas(64) Shard {
    std::mutex mutex;
    std::unordered_map<Key, Agg, KeyHash> entries;
  };
  struct Batch {
    std::string id;
    std::vector<DisclosureRow> rows;
  };

  // The index of `type` in types_, adding it if new; nullopt when it cannot be kept.
  std::optional<std::uint8_t> type_index(std::string_view type) noexcept;
  std::optional<Batch> claim();
  bool send(const Batch& b);

  DisclosureStore& store_;
  host::Log& log_;
  std::array<Shard, kShards> shards_;
  std::atomic<std::size_t> next_shard_{0};

  // Record types, published by count: a reader sees only fully written names.
  std::array<std::string, kMaxTypes> types_;
  std::atomic<std::size_t> type_count_{0};
  std::mutex types_mutex_;

  std::mutex flush_mutex_;
  std::optional<Batch> outstanding_;
  bool failing_ = false;
};

}  // namespace mdp::api_access
