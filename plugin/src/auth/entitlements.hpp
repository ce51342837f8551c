// Whether each clinic's plan includes API access, cached for the request hook.
//
// Each clinic has one atomic word: a generation (upper bits) and a state (unknown / yes by the
// tier / yes by the addon / no, low 2 bits: the rate limit's default depends on which grants it). The hook asks the host (Subscriptions::feature) only while the state is unknown;
// Plugin::on_subscription_changed resets it to unknown and bumps the generation, so an answer
// fetched before the change can never be stored over it (its compare-exchange fails). Cache
// entries keep a pointer to their clinic's word: the hot path does no map lookup.
//
// Only answers are cached: a host that could not tell (Lookup unavailable) leaves the state
// unknown, and the caller answers "try again" (503) instead of "disabled".
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <unordered_map>

#include "mdp/host/services.hpp"

namespace mdp::api_access {

enum class PlanVerdict : std::uint8_t { enabled, disabled, unavailable };

class Entitlements {
 public:
  struct State {
    std::atomic<std::uint64_t> word{0};
  };

  // The clinic's word, created on first use; the pointer stays valid while this object lives.
  State* for_clinic(host::ClinicId clinic);
  // Hot path: does `clinic`'s plan include API access?
  PlanVerdict check(State& state, const host::Subscriptions& subs,
                    host::ClinicId clinic) const noexcept;
  // After check() answered enabled: true when the addon grants it (not the tier). Stale by at
  // most one plan change, like every cached answer here.
  static bool by_addon(const State& state) noexcept;
  // The host reported a plan change: the next check() asks the host again. kEveryClinic
  // forgets every clinic's answer.
  void invalidate(host::ClinicId clinic) noexcept;

 private:
  static void reset(State& s) noexcept;

  mutable std::shared_mutex mutex_;
  std::unordered_map<host::ClinicId, std::unique_ptr<State>> states_;
};

// Asks the host directly (no cache), for the admin routes and pages. `by_addon`, when given, is
// set to whether the addon (rather than the tier) grants API access.
PlanVerdict ask_plan(const host::Subscriptions& subs, host::ClinicId clinic,
                     bool* by_addon = nullptr) noexcept;

}  // namespace mdp::api_access
