// Disclosure accounting in the database (api_access_disclosures, migration 0006): batches from
// DisclosureRecorder, the two views an admin exports (per key, per record), and retention.
//
// Threads: any; each call borrows its own session. Errors: soci::soci_error and
// DatabaseUnavailable propagate (routes answer 503, the flusher retries).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "disclosure/disclosure_recorder.hpp"
#include "keys/key_record.hpp"
#include "mdp/host/services.hpp"

namespace mdp::api_access {

// A stored row with the key's label and preview, for the exports.
struct DisclosureEntry {
  DisclosureRow row;
  std::string key_label, key_preview;
};

class DisclosureStore {
 public:
  explicit DisclosureStore(host::Database& db) : db_(db) {}

  // One transaction, exactly once per `batch_id` (an id already recorded writes nothing and
  // returns false): adds each row's requests to its stored row, keeping the earliest first_at
  // and the latest last_at. Throws on failure; the caller retries with the same id.
  bool write_batch(const std::string& batch_id, const std::vector<DisclosureRow>& rows);
  // Forgets batch ids recorded before `before` (wall clock).
  void trim_batches(Micros before);
  // Deletes rows of days before `first_kept`; returns how many.
  std::size_t trim_before(DayNumber first_kept);

  // What key `key` touched on days from..to, oldest day first, then by record. At most `limit`
  // rows (the caller asks for one more than it serves to tell "too many").
  std::vector<DisclosureEntry> for_key(KeyId key, DayNumber from, DayNumber to, std::size_t limit) const;
  // Which of `clinic`'s keys touched the record (`type`, `id`) on days from..to, oldest first.
  std::vector<DisclosureEntry> for_record(host::ClinicId clinic, const std::string& type, std::int64_t id,
                                          DayNumber from, DayNumber to, std::size_t limit) const;

 private:
  host::Database& db_;
};

}  // namespace mdp::api_access
