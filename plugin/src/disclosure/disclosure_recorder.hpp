// Disclosure accounting in memory: which records each key's requests read or changed, per UTC
// day, as the host reports them (ApiHook::on_api_records), until the flush writes them.
//
// Hot path: one call per report, from any number of request threads. Each thread counts into a
// tally of its own (found through one thread_local pointer), so request threads never share a
// lock or a cache line; the tally's lock is taken by the flush only for an O(1) swap. A tally is
// a flat hash map of small fixed keys: no allocation once an entry exists, and the flush hands
// the thread back last round's emptied table, so a steady load stops allocating. Past
// kMaxTallies threads (a host that starts a thread per request), new threads share the existing
// tallies, so memory stays bounded by distinct (key, day, record, access), not by threads or
// requests. The same entry counted in two tallies is added up by the flush.
//
// Exactly once, through database faults, like usage (usage/usage_flusher.hpp): a flush moves
// every tally's entries into a batch with a random id and writes it in one transaction that also
// records the id; a failed batch is kept and sent again, under the same id, before anything
// newer.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

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
  static constexpr std::size_t kMaxTallies = 64;     // threads with a tally of their own
  static constexpr std::size_t kMaxTypes = 16;       // distinct record types kept
  static constexpr std::size_t kMaxTypeLength = 32;  // longer type names are not recorded

  DisclosureRecorder(DisclosureStore& store, host::Log& log);
  ~DisclosureRecorder();
  DisclosureRecorder(const DisclosureRecorder&) = delete;
  DisclosureRecorder& operator=(const DisclosureRecorder&) = delete;

  // Hot path. Records `count` touches by one request of `key_id` at `now`. Never throws.
  void record(std::int64_t key_id, Micros now, const host::RecordTouch* records, std::size_t count) noexcept;

  // Writes the outstanding batch, if any, then everything newer. False (logged once per outage)
  // when a write failed; nothing is lost then, the next flush retries.
  bool flush() noexcept;

  // Entries counted but not yet known to be written (for tests and the stop message).
  std::size_t pending() noexcept;

  // Tallies handed out so far (at most kMaxTallies; for tests).
  std::size_t tallies() noexcept;

 private:
  // (key, day, record, type, access) in three words: cheap to hash and to compare.
  struct Key {
    std::int64_t key_id;
    std::int64_t record_id;
    std::uint64_t day_type_access;  // day << 16 | type << 8 | access

    static Key of(std::int64_t key_id, std::int64_t record_id, DayNumber day, std::uint8_t type,
                  std::uint8_t access) noexcept {
      return {key_id, record_id,
              static_cast<std::uint64_t>(static_cast<std::uint32_t>(day)) << 16 | std::uint64_t{type} << 8 | access};
    }
    DayNumber day() const noexcept { return static_cast<DayNumber>(static_cast<std::uint32_t>(day_type_access >> 16)); }
    std::uint8_t type() const noexcept { return static_cast<std::uint8_t>(day_type_access >> 8); }
    std::uint8_t access() const noexcept { return static_cast<std::uint8_t>(day_type_access); }
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    // Spreads the words apart; the flat map mixes the result further (not avalanching).
    std::size_t operator()(const Key& k) const noexcept {
      return static_cast<std::size_t>(static_cast<std::uint64_t>(k.key_id) * 0x9E3779B97F4A7C15ull ^
                                      static_cast<std::uint64_t>(k.record_id) ^
                                      k.day_type_access * 0xC2B2AE3D27D4EB4Full);
    }
  };
  struct Agg {
    std::uint64_t requests = 0;
    Micros first_at = 0, last_at = 0;
  };
  using Entries = boost::unordered_flat_map<Key, Agg, KeyHash>;
  // One thread's counts (or a few threads' past kMaxTallies). `entries` is guarded by `lock`;
  // `spare` belongs to the flush alone (flush_mutex_).
  // A tally's lock: its own thread takes it on every report and the flush for a swap, so it is
  // nearly always free; one exchange and a plain store cost less than a mutex's two atomic
  // operations (measured: BM_Disclosure_RecordOnly in bench/hook_bench.cpp).
  struct SpinLock {
    std::atomic<bool> held{false};
    void lock() noexcept {
      while (held.exchange(true, std::memory_order_acquire))
        while (held.load(std::memory_order_relaxed)) std::this_thread::yield();
    }
    void unlock() noexcept { held.store(false, std::memory_order_release); }
  };
  struct alignas(64) Tally {
    SpinLock lock;
    Entries entries;
    Entries spare;
  };
  struct Batch {
    std::string id;
    std::vector<DisclosureRow> rows;
  };

  Tally* tally_of_this_thread() noexcept;
  Tally* attach_this_thread() noexcept;
  // The index of `type` in types_, adding it if new; nullopt when it cannot be kept.
  std::optional<std::uint8_t> type_index(std::string_view type) noexcept;
  std::optional<Batch> claim();
  bool send(const Batch& b);

  DisclosureStore& store_;
  host::Log& log_;
  // Never reused within a process, so a thread's cached tally pointer cannot outlive its
  // recorder unnoticed (a later recorder at the same address has another id).
  const std::uint64_t id_;

  std::mutex tallies_mutex_;  // guards tallies_ and by_thread_ (not the tallies' contents)
  std::vector<std::unique_ptr<Tally>> tallies_;
  std::unordered_map<std::thread::id, Tally*> by_thread_;
  std::size_t next_shared_ = 0;

  // Record types, published by count: a reader sees only fully written names.
  std::array<std::string, kMaxTypes> types_;
  std::atomic<std::size_t> type_count_{0};
  std::mutex types_mutex_;

  std::mutex flush_mutex_;
  std::optional<Batch> outstanding_;
  bool failing_ = false;
};

}  // namespace mdp::api_access
