// The devhost's own tables (host_*) and its demo data. Owned by the devhost; plugins never
// write these tables, they read them through Directory and Subscriptions.
//
//   host_clinics(id, name, tier, time_zone)          host_clinic_addons(clinic_id, addon)
//   host_users(id, clinic_id, email, name, role, password_hash)
//   host_patients(id, clinic_id, first_name, last_name, birth_date)
//   host_appointments(id, clinic_id, patient_id, starts_at, duration_minutes, reason)
//   host_subscription_changes(id, clinic_id, changed_at)   plan changes for every host process
//     (subscription_changes.hpp); changed_at in microseconds since the Unix epoch, UTC
//   host_notifications(id, clinic_id, user_id, plugin_id, notice_key, severity, subject, body,
//     link, created_at, read_at, emailed_at)   plugin messages per recipient
//     (notifications.hpp); times in microseconds of the host clock
#pragma once

#include <string>
#include <string_view>

#include "mdp/host/services.hpp"

namespace mdp::devhost {

// Creates the host_* tables if absent. Safe to run from two processes at once.
void ensure_host_schema(host::Database& db);

// Seeds the demo clinics, users, patients and appointments once (does nothing if any clinic
// exists). Every demo user's password is "devpass": DEVELOPMENT ONLY, never on a real host.
// Returns true if it seeded.
bool seed_demo_data(host::Database& db);
// Sets a clinic's IANA time zone ("" = UTC); false when there is no such clinic.
bool set_clinic_time_zone(host::Database& db, long long clinic_id, const std::string& zone);

// Argon2id (Botan) in its PHC string form; check_password is constant-time in the hash compare.
std::string hash_password(std::string_view password);
bool check_password(std::string_view password, const std::string& stored_hash) noexcept;

}  // namespace mdp::devhost
