// The id of a batch of counts (usage, disclosures) written exactly once: the store records it in
// the same transaction as the counts, so a resend of a batch whose COMMIT was lost is recognised.
#pragma once

#include <string>

namespace mdp::api_access {

// 16 random bytes from the system RNG, as 32 lowercase hex characters.
std::string new_batch_id();

}  // namespace mdp::api_access
