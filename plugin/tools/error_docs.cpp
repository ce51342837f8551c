// Prints docs/errors.md, the catalogue of error codes as Markdown (target `error-docs` writes it;
// the test plugin.ErrorCatalogue.DocsPageIsCurrent fails while the checked-in page differs).
#include <cstdio>

#include "errors/error_catalogue.hpp"

int main() {
  const std::string md = mdp::api_access::errors_markdown();
  return std::fwrite(md.data(), 1, md.size(), stdout) == md.size() ? 0 : 1;
}
