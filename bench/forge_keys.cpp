// Prints N keys that have the key format and a valid checksum but exist nowhere: what an
// attacker who read the README can compute. scripts/bench-floods.sh floods the devhost with
// them. Usage: forge_keys N
#include <cstdio>
#include <cstdlib>

#include <botan/system_rng.h>

#include "keys/key_format.hpp"

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 0;
  if (n <= 0) {
    std::fprintf(stderr, "usage: forge_keys N\n");
    return 2;
  }
  for (long i = 0; i < n; ++i)
    std::printf("%s\n", mdp::api_access::generate_key(Botan::system_rng()).c_str());
  return 0;
}
