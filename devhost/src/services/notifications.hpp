// The devhost's delivery of plugin notifications (host_interface services.hpp, Notifications):
// in the app, as rows of host_notifications that the settings header's bell counts and
// /settings/notifications lists, and by e-mail, as one RFC 5322 file per message and recipient
// written to the outbox folder named by --outbox (no folder: e-mails stay queued in the table).
//
// Recipients: every user of the clinic whose role is "admin", at the time of the first notify()
// with a key. "Once": a (plugin, key) already stored answers accepted and stores nothing, and
// the table's UNIQUE (plugin_id, notice_key, user_id) holds that across host processes sharing
// the database. The outbox is a queue: a row's e-mail is written (to a temporary name, then
// renamed to <id>.eml, so a reader never sees half a file and two processes writing the same
// row write the same file) and then marked e-mailed; a failed write is retried by the next
// flush. Owned by the devhost; outlives the plugins.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mdp/host/services.hpp"

namespace mdp::devhost {

struct StoredNotification {
  std::int64_t id = 0;
  std::string plugin_id;
  std::string severity;  // "info" | "warning" | "danger"
  std::string subject, body, link;
  host::TimePoint created_at{};
  bool read = false;
};

class NotificationCenter {
 public:
  // `outbox`: the folder e-mails are written to (created if absent); empty: none.
  NotificationCenter(host::Database& db, const host::Clock& clock, std::filesystem::path outbox);

  // The links in e-mails are this base + the notification's link ("http://127.0.0.1:8080").
  void set_base_url(std::string base);

  // Notifications::notify for `plugin_id` (see services.hpp), then writes pending e-mails.
  host::NotifyResult notify(const std::string& plugin_id, const host::Notification& n) noexcept;

  // A user's notifications, newest first; unavailable while the database is down.
  host::Lookup<std::vector<StoredNotification>> list(host::UserId user, std::size_t limit = 50) const noexcept;
  host::Lookup<std::size_t> unread(host::UserId user) const noexcept;
  // Marks the user's notifications read (all of them, or the one `id`); false: database down.
  bool mark_read(host::UserId user, std::optional<std::int64_t> id) noexcept;

  // Writes the e-mail of every queued row to the outbox and marks it e-mailed. Returns how many
  // it wrote; logs and stops at the first failure (retried by the next call).
  std::size_t flush_outbox() noexcept;

 private:
  host::Database& db_;
  const host::Clock& clock_;
  std::filesystem::path outbox_;
  mutable std::mutex mutex_;  // base_url_, and one outbox flush at a time in this process
  std::string base_url_;
};

// What one plugin sees: the center with its id attached.
class PluginNotifications final : public host::Notifications {
 public:
  PluginNotifications(NotificationCenter* center, std::string plugin_id)
      : center_(center), plugin_id_(std::move(plugin_id)) {}
  // A host built without a center (loader tests) answers unavailable.
  host::NotifyResult notify(const host::Notification& n) noexcept override {
    return center_ == nullptr ? host::NotifyResult::unavailable : center_->notify(plugin_id_, n);
  }

 private:
  NotificationCenter* center_;
  std::string plugin_id_;
};

// The e-mail text of one notification to one recipient (exposed for tests): headers with the
// subject RFC 2047-encoded when it is not ASCII, a plain-text UTF-8 body, and the link as a URL.
std::string format_email(const StoredNotification& n, const std::string& to_name,
                         const std::string& to_email, const std::string& base_url);

}  // namespace mdp::devhost
