#include "app/response_recorder.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace mdp::devhost {

namespace {

bool is_base32(char c) noexcept { return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'); }

}  // namespace

void mask_api_keys(std::string& text) {
  constexpr std::string_view kPrefix = "mdp_";
  constexpr std::size_t kBody = kRecordedKeyPlaceholder.size() - kPrefix.size();  // 58
  std::size_t at = 0;
  while ((at = text.find(kPrefix, at)) != std::string::npos) {
    std::size_t end = at + kPrefix.size();
    while (end < text.size() && is_base32(text[end])) ++end;
    if (end - at - kPrefix.size() >= kBody) {
      text.replace(at, end - at, kRecordedKeyPlaceholder);
      at += kRecordedKeyPlaceholder.size();
    } else {
      at = end;
    }
  }
}

ResponseRecorder::ResponseRecorder(const std::string& path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
}

ResponseRecorder::~ResponseRecorder() {
  if (fd_ >= 0) ::close(fd_);
}

void ResponseRecorder::record(std::string_view method, std::string_view route,
                              const HttpResponse& response) noexcept {
  try {
    boost::json::object headers;
    for (const auto& [name, value] : response.headers)
      for (std::string_view kept : kRecordedHeaders)
        if (iequals(name, kept)) headers[kept] = value;
    boost::json::object line{{"method", method},
                             {"route", route},
                             {"status", response.status},
                             {"content_type", response.content_type},
                             {"headers", std::move(headers)},
                             {"body", response.body}};
    std::string text = boost::json::serialize(line);
    mask_api_keys(text);  // before anything leaves this process
    text += '\n';
    // One write per line on an O_APPEND descriptor: lines of concurrent requests never interleave.
    std::lock_guard lock(mutex_);
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  } catch (...) {
    // Out of memory while building the line: the answer itself is unaffected.
  }
}

}  // namespace mdp::devhost
