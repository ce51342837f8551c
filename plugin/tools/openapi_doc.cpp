// Reads the OpenAPI document (argument 1), fills its error codes from the catalogue and writes
// it back in canonical layout (target `openapi-doc`; the test
// plugin.ErrorCatalogue.OpenApiDocumentIsCurrent fails while the checked-in file differs).
#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "openapi_errors.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s docs/openapi.json\n", argv[0]);
    return 2;
  }
  try {
    std::ifstream in(argv[1], std::ios::binary);
    if (!in.is_open()) throw std::runtime_error(std::string("cannot read ") + argv[1]);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string out = mdp::api_access::openapi_with_catalogue(text.str());
    std::ofstream(argv[1], std::ios::binary | std::ios::trunc) << out;
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "openapi-doc: %s\n", e.what());
    return 1;
  }
}
