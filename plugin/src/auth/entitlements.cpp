#include "auth/entitlements.hpp"

#include <mutex>

#include "mdp/host/plugin.hpp"

namespace mdp::api_access {

namespace {
constexpr std::uint64_t kUnknown = 0, kYes = 1, kNo = 2, kYesByAddon = 3, kStateMask = 3;
constexpr const char* kFeature = "api_access";
}  // namespace

PlanVerdict ask_plan(const host::Subscriptions& subs, host::ClinicId clinic, bool* by_addon) noexcept {
  const auto answer = subs.feature(clinic, kFeature);
  switch (answer.status) {
    case host::LookupStatus::found:
      if (by_addon != nullptr) *by_addon = answer.value.source == host::FeatureSource::addon;
      return answer.value.enabled ? PlanVerdict::enabled : PlanVerdict::disabled;
    case host::LookupStatus::not_found:  // unknown clinic or feature: no API access
      return PlanVerdict::disabled;
    case host::LookupStatus::unavailable:
      break;
  }
  return PlanVerdict::unavailable;
}

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

PlanVerdict Entitlements::check(State& state, const host::Subscriptions& subs,
                                host::ClinicId clinic) const noexcept {
  std::uint64_t word = state.word.load(std::memory_order_acquire);
  switch (word & kStateMask) {
    case kYes:
    case kYesByAddon: return PlanVerdict::enabled;
    case kNo: return PlanVerdict::disabled;
    default: break;
  }
  bool addon = false;
  const PlanVerdict verdict = ask_plan(subs, clinic, &addon);
  if (verdict == PlanVerdict::unavailable) return verdict;  // not an answer: never cached
  const std::uint64_t answer = verdict != PlanVerdict::enabled ? kNo : addon ? kYesByAddon : kYes;
  const std::uint64_t filled = (word & ~kStateMask) | answer;
  // Fails when a plan change bumped the generation meanwhile: then the word stays unknown and
  // the next request asks again.
  state.word.compare_exchange_strong(word, filled, std::memory_order_acq_rel);
  return verdict;
}

bool Entitlements::by_addon(const State& s) noexcept {
  return (s.word.load(std::memory_order_acquire) & kStateMask) == kYesByAddon;
}

void Entitlements::reset(State& s) noexcept {
  std::uint64_t word = s.word.load(std::memory_order_acquire);
  while (!s.word.compare_exchange_weak(word, ((word >> 2) + 1) << 2 | kUnknown,
                                       std::memory_order_acq_rel)) {
  }
}

void Entitlements::invalidate(host::ClinicId clinic) noexcept {
  std::shared_lock lock(mutex_);
  if (clinic == host::kEveryClinic) {
    for (auto& [id, state] : states_) reset(*state);
    return;
  }
  if (auto it = states_.find(clinic); it != states_.end()) reset(*it->second);
  // Never asked: nothing cached.
}

}  // namespace mdp::api_access
