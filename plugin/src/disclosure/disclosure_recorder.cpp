#include "disclosure/disclosure_recorder.hpp"

#include "disclosure/disclosure_store.hpp"
#include "util/batch_id.hpp"

namespace mdp::api_access {

namespace {

std::atomic<std::uint64_t> g_next_recorder_id{1};

// This thread's tally in the recorder it used last. Trivially destructible, so nothing runs at
// thread exit (safe in a library the host may unload while its threads live on).
struct ThreadTally {
  std::uint64_t recorder = 0;
  void* tally = nullptr;
};
thread_local ThreadTally t_tally;

// by_thread_ only speeds up a thread that switches between recorders; past this many thread ids
// it is forgotten (the tallies stay) rather than grow with every thread a host ever started.
constexpr std::size_t kMaxRememberedThreads = 4096;

}  // namespace

DisclosureRecorder::DisclosureRecorder(DisclosureStore& store, host::Log& log)
    : store_(store), log_(log), id_(g_next_recorder_id.fetch_add(1, std::memory_order_relaxed)) {}

DisclosureRecorder::~DisclosureRecorder() = default;

DisclosureRecorder::Tally* DisclosureRecorder::tally_of_this_thread() noexcept {
  if (t_tally.recorder == id_) return static_cast<Tally*>(t_tally.tally);
  return attach_this_thread();
}

DisclosureRecorder::Tally* DisclosureRecorder::attach_this_thread() noexcept {
  try {
    std::lock_guard g(tallies_mutex_);
    const auto self = std::this_thread::get_id();
    Tally* t = nullptr;
    if (auto it = by_thread_.find(self); it != by_thread_.end()) {
      t = it->second;
    } else if (tallies_.size() < kMaxTallies) {
      t = tallies_.emplace_back(std::make_unique<Tally>()).get();
    } else {
      t = tallies_[next_shared_++ % tallies_.size()].get();
    }
    if (by_thread_.size() >= kMaxRememberedThreads) by_thread_.clear();
    by_thread_.emplace(self, t);
    t_tally = {id_, t};
    return t;
  } catch (...) {
    return nullptr;  // out of memory: this report goes unrecorded
  }
}

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
  Tally* tally = tally_of_this_thread();
  if (tally == nullptr) return;
  const DayNumber day = day_of(now);
  // A report is usually one type throughout, named by the same string: then the name is looked
  // up once per report, not once per record.
  std::string_view last_name;
  std::optional<std::uint8_t> type;
  try {
    std::lock_guard g(tally->lock);
    for (std::size_t i = 0; i < count; ++i) {
      const host::RecordTouch& r = records[i];
      if (r.access != host::RecordAccess::read && r.access != host::RecordAccess::write) continue;
      if (i == 0 || r.type.data() != last_name.data() || r.type.size() != last_name.size()) {
        last_name = r.type;
        type = type_index(r.type);
      }
      if (!type) continue;
      Agg& a = tally->entries[Key::of(key_id, r.id, day, *type, static_cast<std::uint8_t>(r.access))];
      if (a.requests == 0 || now < a.first_at) a.first_at = now;
      if (now > a.last_at) a.last_at = now;
      ++a.requests;
    }
  } catch (...) {
    // Out of memory: this report goes unrecorded rather than failing the request.
  }
}

std::optional<DisclosureRecorder::Batch> DisclosureRecorder::claim() {
  std::vector<Tally*> tallies;
  {
    std::lock_guard g(tallies_mutex_);
    tallies.reserve(tallies_.size());
    for (const auto& t : tallies_) tallies.push_back(t.get());
  }
  std::unordered_map<Key, Agg, KeyHash> all;
  for (Tally* t : tallies) {
    // The thread gets back last flush's emptied table, so it does not allocate again; a large
    // table left mostly empty is dropped, so one busy minute does not hold its memory for good.
    {
      std::lock_guard g(t->lock);
      t->entries.swap(t->spare);
    }
    Entries& taken = t->spare;
    try {
      for (const auto& [k, a] : taken) {
        Agg& m = all[k];
        m.first_at = m.requests == 0 ? a.first_at : std::min(m.first_at, a.first_at);
        m.last_at = std::max(m.last_at, a.last_at);
        m.requests += a.requests;
      }
    } catch (...) {
      taken.clear();  // lost with the exception (logged by flush), never handed back to be counted twice
      throw;
    }
    if (taken.bucket_count() > 1024 && taken.size() * 4 < taken.bucket_count()) Entries().swap(taken);
    else taken.clear();
  }
  if (all.empty()) return std::nullopt;
  Batch b;
  b.id = new_batch_id();
  b.rows.reserve(all.size());
  const std::size_t types = type_count_.load(std::memory_order_acquire);
  for (const auto& [k, a] : all) {
    if (k.type() >= types) continue;
    b.rows.push_back(DisclosureRow{k.key_id, k.day(), types_[k.type()], k.record_id,
                                   static_cast<host::RecordAccess>(k.access()), a.requests, a.first_at, a.last_at});
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
    // Allocation failed while claiming: what was taken from a tally and not yet in a batch is
    // lost with the exception; log it once.
    if (!failing_) log_.write(host::LogLevel::error, "disclosure flush ran out of memory");
    failing_ = true;
    return false;
  }
}

std::size_t DisclosureRecorder::pending() noexcept {
  std::lock_guard g(flush_mutex_);
  std::size_t n = outstanding_ ? outstanding_->rows.size() : 0;
  std::lock_guard t(tallies_mutex_);
  for (const auto& tally : tallies_) {
    std::lock_guard e(tally->lock);
    n += tally->entries.size();
  }
  return n;
}

std::size_t DisclosureRecorder::tallies() noexcept {
  std::lock_guard g(tallies_mutex_);
  return tallies_.size();
}

}  // namespace mdp::api_access
