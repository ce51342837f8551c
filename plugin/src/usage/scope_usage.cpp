#include "usage/scope_usage.hpp"

#include <new>

namespace mdp::api_access {

ScopeTally::Counter* ScopeTally::allocate(std::size_t count) noexcept {
  Counter* fresh = new (std::nothrow) Counter[count];
  if (fresh == nullptr) return nullptr;  // out of memory: this request goes uncounted
  Counter* expected = nullptr;
  if (block_.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) return fresh;
  delete[] fresh;
  return expected;  // another request published first
}

void ScopeTally::collect(std::int64_t key_id, const std::vector<std::string>& names, std::vector<ScopeUse>& out) {
  Counter* b = block_.load(std::memory_order_acquire);
  if (b == nullptr) return;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::uint64_t requests = b[i].requests.load(std::memory_order_relaxed);
    const Micros last = floor_seconds(b[i].last.load(std::memory_order_relaxed));
    if (requests == b[i].flushed && last <= b[i].flushed_last) continue;
    out.push_back(ScopeUse{key_id, names[i], requests - b[i].flushed, last});
    b[i].flushed = requests;
    b[i].flushed_last = last;
  }
}

}  // namespace mdp::api_access
