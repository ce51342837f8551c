#include "util/batch_id.hpp"

#include <cstdint>

#include <botan/hex.h>
#include <botan/system_rng.h>

namespace mdp::api_access {

std::string new_batch_id() {
  std::uint8_t bytes[16];
  Botan::system_rng().randomize(bytes, sizeof bytes);
  return Botan::hex_encode(bytes, sizeof bytes, false);
}

}  // namespace mdp::api_access
