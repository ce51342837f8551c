#include "app/compression.hpp"

#include <cstdlib>
#include <string>

#include <zlib.h>

namespace mdp::devhost {

namespace {

constexpr std::size_t kMinBytes = 1024;  // below this the gzip header costs more than it saves

bool compressible(std::string_view content_type) noexcept {
  return content_type.starts_with("text/html") || content_type.starts_with("text/css") ||
         content_type.starts_with("text/javascript");
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// gzip (RFC 1952) of `in` at level 6, or false if zlib failed.
bool gzip(std::string_view in, std::string& out) {
  z_stream zs{};
  // 15 window bits + 16: a gzip wrapper rather than zlib's; 8: zlib's default memory level.
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  out.resize(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const std::size_t written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return false;
  out.resize(written);
  return true;
}

}  // namespace

bool accepts_gzip(const HttpRequest& request) noexcept {
  std::string_view values[4];
  const std::size_t n = std::min<std::size_t>(request.header_values("Accept-Encoding", values, 4), 4);
  for (std::size_t i = 0; i < n; ++i) {
    std::string_view rest = values[i];
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      std::string_view item = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      const std::size_t semi = item.find(';');
      std::string_view coding = trim(item.substr(0, semi));
      if (!iequals(coding, "gzip") && coding != "*") continue;
      if (semi == std::string_view::npos) return true;
      std::string_view param = trim(item.substr(semi + 1));
      if (!(param.starts_with("q=") || param.starts_with("Q="))) return true;
      // q=0, q=0.0, q=0.000: refused; any other weight accepts.
      std::string_view q = param.substr(2);
      bool zero = !q.empty() && q.front() == '0';
      for (char c : q.substr(q.empty() ? 0 : 1))
        if (c != '.' && c != '0') zero = false;
      if (!zero) return true;
    }
  }
  return false;
}

void maybe_gzip(const HttpRequest& request, HttpResponse& response) noexcept {
  try {
    if (response.body.size() < kMinBytes || !compressible(response.content_type)) return;
    for (const auto& [name, value] : response.headers)
      if (iequals(name, "Content-Encoding")) return;
    response.headers.emplace_back("Vary", "Accept-Encoding");
    if (!accepts_gzip(request)) return;
    std::string packed;
    if (!gzip(response.body, packed)) return;
    response.body = std::move(packed);
    response.headers.emplace_back("Content-Encoding", "gzip");
  } catch (...) {
    // std::bad_alloc while packing: the uncompressed body is still there and still correct.
  }
}

}  // namespace mdp::devhost
