// Finishes the rotations that asked for it (rotation/auto_rotation_store.hpp): on the plugin's
// background thread, after the usage flush of the same round (so it judges from what was just
// written) and before the notifications (so "revoked automatically" goes out in that round).
//
// Every host process runs it; the store's conditional UPDATEs let exactly one of them revoke a
// given key, and the others then find the rotation ended. A check runs when the host clock has
// moved kCheckInterval since the last one, or backwards (a test clock), like the notifier's.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <vector>

#include "mdp/host/services.hpp"
#include "rotation/auto_rotation_store.hpp"

namespace mdp::api_access {

class RotationFinisher {
 public:
  RotationFinisher(AutoRotationStore& store, host::Log& log) : store_(store), log_(log) {}

  struct Result {
    std::vector<KeyId> revoked;  // old keys this process revoked
    std::size_t closed = 0;      // rotations ended because a key stopped working
  };
  // Runs check(now) if due; logs a failure once per outage. Never throws.
  Result tick(Micros now) noexcept;
  // One check now. Throws on database errors (a rotation not yet acted on waits for the next).
  Result check(Micros now);

 private:
  AutoRotationStore& store_;
  host::Log& log_;
  std::mutex mutex_;
  std::optional<Micros> last_check_;
  bool failing_ = false;
};

}  // namespace mdp::api_access
