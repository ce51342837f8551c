#include "auth/entitlements.hpp"

#include <mutex>

namespace mdp::api_access {

namespace {
constexpr std::uint64_t kUnknown = 0, kYes = 1, kNo = 2, kStateMask = 3;
constexpr const char* kFeature = "api_access";
}  // namespace

Entitlements::State* Entitlements::for_clinic(host::ClinicId clinic) {
  {
    std::shared_lock lock(mutex_);
    if (auto it = states_.find(clinic); it != states_.end()) return it->second.get();
  }
  std::unique_lock lock(mutex_);
  auto& slot = states_[clinic];
  if (!slot) slot = std::make_unique<State>();
  return slot.get();
}

bool Entitlements::enabled(State& state, const host::Subscriptions& subs,
                           host::ClinicId clinic) const noexcept {
  std::uint64_t word = state.word.load(std::memory_order_acquire);
  switch (word & kStateMask) {
    case kYes: return true;
    case kNo: return false;
    default: break;
  }
  const bool on = subs.feature(clinic, kFeature).enabled;
  const std::uint64_t filled = (word & ~kStateMask) | (on ? kYes : kNo);
  // Fails when a plan change bumped the generation meanwhile: then the word stays unknown and
  // the next request asks again.
  state.word.compare_exchange_strong(word, filled, std::memory_order_acq_rel);
  return on;
}

void Entitlements::invalidate(host::ClinicId clinic) noexcept {
  State* s = nullptr;
  {
    std::shared_lock lock(mutex_);
    if (auto it = states_.find(clinic); it != states_.end()) s = it->second.get();
  }
  if (s == nullptr) return;  // never asked: nothing cached
  std::uint64_t word = s->word.load(std::memory_order_acquire);
  while (!s->word.compare_exchange_weak(word, ((word >> 2) + 1) << 2 | kUnknown,
                                        std::memory_order_acq_rel)) {
  }
}

}  // namespace mdp::api_access
