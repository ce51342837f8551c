#include "rotation/rotation_finisher.hpp"

#include <string>

#include "notify/notifier.hpp"  // kCheckInterval: both background checks keep one rhythm

namespace mdp::api_access {

RotationFinisher::Result RotationFinisher::tick(Micros now) noexcept {
  {
    std::lock_guard g(mutex_);
    if (last_check_ && now >= *last_check_ && now - *last_check_ < kCheckInterval) return {};
  }
  try {
    Result r = check(now);
    if (failing_) log_.write(host::LogLevel::info, "automatic rotation: checks work again");
    failing_ = false;
    return r;
  } catch (const std::exception& e) {
    if (!failing_)
      log_.write(host::LogLevel::warning, std::string("automatic rotation: check failed, retried next round: ") + e.what());
  } catch (...) {
  }
  failing_ = true;
  return {};
}

RotationFinisher::Result RotationFinisher::check(Micros now) {
  std::lock_guard g(mutex_);
  Result r;
  using V = AutoRotationJudgement::Verdict;
  for (const auto& w : store_.waiting()) {
    switch (judge(w, now).verdict) {
      case V::wait_for_new_key:
      case V::wait_for_quiet: break;
      case V::old_key_gone:
        if (store_.close(w.new_key_id, "old_key_gone", now)) ++r.closed;
        break;
      case V::new_key_gone:
        if (store_.close(w.new_key_id, "new_key_gone", now)) ++r.closed;
        break;
      case V::revoke:
        if (store_.revoke_automatically(w, now)) {
          r.revoked.push_back(w.old_key_id);
          log_.write(host::LogLevel::info, "API key " + w.old_preview + " (id " + std::to_string(w.old_key_id) +
                                               ") revoked automatically: its rotation to " + w.new_preview +
                                               " is finished");
        }
        break;
    }
  }
  last_check_ = now;
  return r;
}

}  // namespace mdp::api_access
