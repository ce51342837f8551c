#include "services/host_schema.hpp"

#include <chrono>

#include <botan/argon2.h>
#include <botan/system_rng.h>
#include <soci/soci.h>

#include "services/soci_database.hpp"

namespace mdp::devhost {

namespace {

using namespace std::chrono_literals;

const char* kSqliteSchema = R"sql(
CREATE TABLE IF NOT EXISTS host_clinics (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  tier TEXT NOT NULL,
  time_zone TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS host_clinic_addons (
  clinic_id INTEGER NOT NULL REFERENCES host_clinics(id),
  addon TEXT NOT NULL,
  PRIMARY KEY (clinic_id, addon)
);
CREATE TABLE IF NOT EXISTS host_users (
  id INTEGER PRIMARY KEY,
  clinic_id INTEGER NOT NULL REFERENCES host_clinics(id),
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS host_patients (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  clinic_id INTEGER NOT NULL REFERENCES host_clinics(id),
  first_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  birth_date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS host_patients_clinic ON host_patients(clinic_id);
CREATE TABLE IF NOT EXISTS host_appointments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  clinic_id INTEGER NOT NULL REFERENCES host_clinics(id),
  patient_id INTEGER NOT NULL REFERENCES host_patients(id),
  starts_at TEXT NOT NULL,
  duration_minutes INTEGER NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS host_appointments_clinic ON host_appointments(clinic_id);
-- AUTOINCREMENT: an id is never reused, even after the newest rows were trimmed.
CREATE TABLE IF NOT EXISTS host_subscription_changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  clinic_id INTEGER NOT NULL,
  changed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS host_notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  clinic_id INTEGER NOT NULL REFERENCES host_clinics(id),
  user_id INTEGER NOT NULL REFERENCES host_users(id),
  plugin_id TEXT NOT NULL,
  notice_key TEXT NOT NULL,
  severity TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  link TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  read_at INTEGER,
  emailed_at INTEGER,
  UNIQUE (plugin_id, notice_key, user_id)
);
CREATE INDEX IF NOT EXISTS host_notifications_user ON host_notifications(user_id, id);
)sql";

const char* kPostgresSchema = R"sql(
CREATE TABLE IF NOT EXISTS host_clinics (
  id BIGINT PRIMARY KEY,
  name TEXT NOT NULL,
  tier TEXT NOT NULL,
  time_zone TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS host_clinic_addons (
  clinic_id BIGINT NOT NULL REFERENCES host_clinics(id),
  addon TEXT NOT NULL,
  PRIMARY KEY (clinic_id, addon)
);
CREATE TABLE IF NOT EXISTS host_users (
  id BIGINT PRIMARY KEY,
  clinic_id BIGINT NOT NULL REFERENCES host_clinics(id),
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS host_patients (
  id BIGSERIAL PRIMARY KEY,
  clinic_id BIGINT NOT NULL REFERENCES host_clinics(id),
  first_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  birth_date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS host_patients_clinic ON host_patients(clinic_id);
CREATE TABLE IF NOT EXISTS host_appointments (
  id BIGSERIAL PRIMARY KEY,
  clinic_id BIGINT NOT NULL REFERENCES host_clinics(id),
  patient_id BIGINT NOT NULL REFERENCES host_patients(id),
  starts_at TEXT NOT NULL,
  duration_minutes INTEGER NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS host_appointments_clinic ON host_appointments(clinic_id);
CREATE TABLE IF NOT EXISTS host_subscription_changes (
  id BIGSERIAL PRIMARY KEY,
  clinic_id BIGINT NOT NULL,
  changed_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS host_notifications (
  id BIGSERIAL PRIMARY KEY,
  clinic_id BIGINT NOT NULL REFERENCES host_clinics(id),
  user_id BIGINT NOT NULL REFERENCES host_users(id),
  plugin_id TEXT NOT NULL,
  notice_key TEXT NOT NULL,
  severity TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  link TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  read_at BIGINT,
  emailed_at BIGINT,
  UNIQUE (plugin_id, notice_key, user_id)
);
CREATE INDEX IF NOT EXISTS host_notifications_user ON host_notifications(user_id, id);
)sql";

// The same locking as the migrator: one writer at a time across processes.
template <class Work>
void locked(soci::session& s, host::Dialect d, Work&& work) {
  execute_script(s, d, d == host::Dialect::sqlite
                           ? "BEGIN IMMEDIATE"
                           : "BEGIN; SELECT pg_advisory_xact_lock(hashtext('mdp_host_schema'))");
  try {
    work();
    execute_script(s, d, "COMMIT");
  } catch (...) {
    try {
      execute_script(s, d, "ROLLBACK");
    } catch (...) {
    }
    throw;
  }
}

struct SeedPatient {
  const char* first;
  const char* last;
  const char* birth;
};
struct SeedAppointment {
  int patient;  // index into the clinic's patients
  const char* starts_at;
  int minutes;
  const char* reason;
};
struct SeedClinic {
  long long id;
  const char* name;
  const char* tier;
  const char* addon;  // nullptr: none
  std::vector<SeedPatient> patients;
  std::vector<SeedAppointment> appointments;
};
struct SeedUser {
  long long id;
  long long clinic;
  const char* email;
  const char* name;
  const char* role;
};

}  // namespace

void ensure_host_schema(host::Database& db) {
  host::SessionLease s(db, 30s);
  if (!s) throw DatabaseError("no database session free for the host schema");
  locked(*s, db.dialect(), [&] {
    execute_script(*s, db.dialect(),
                   db.dialect() == host::Dialect::sqlite ? kSqliteSchema : kPostgresSchema);
  });
}

bool seed_demo_data(host::Database& db) {
  static const std::vector<SeedClinic> clinics{
      {1, "Bright Smiles Dental", "enterprise", nullptr,
       {{"Emma", "Johnson", "1985-04-12"}, {"Liam", "Smith", "1992-09-30"}, {"Ava", "Brown", "2010-01-05"}},
       {{0, "2026-12-01T09:00:00Z", 30, "Check-up"}, {1, "2026-12-01T10:00:00Z", 60, "Filling"},
        {2, "2026-12-02T14:30:00Z", 30, "Cleaning"}}},
      {2, "Downtown Dental", "professional", nullptr,
       {{"Noah", "Davis", "1978-07-21"}, {"Mia", "Wilson", "2001-11-02"}},
       {{0, "2026-12-03T08:30:00Z", 45, "Crown fitting"}, {1, "2026-12-03T11:00:00Z", 30, "Check-up"}}},
      {3, "Lakeside Family Dentistry", "professional", "api_access",
       {{"Lucas", "Moore", "1969-03-14"}, {"Sophia", "Taylor", "2015-06-18"}, {"Ethan", "Clark", "1990-12-25"}},
       {{0, "2026-12-04T09:15:00Z", 30, "Whitening consult"}, {1, "2026-12-04T15:00:00Z", 30, "Child check-up"},
        {2, "2026-12-05T10:00:00Z", 90, "Root canal"}}},
  };
  static const std::vector<SeedUser> users{
      {1, 1, "owner@brightsmiles.test", "Olivia Hart", "admin"},
      {2, 1, "frontdesk@brightsmiles.test", "Sam Rivera", "staff"},
      {3, 2, "admin@downtown.test", "Daniel Brooks", "admin"},
      {4, 3, "admin@lakeside.test", "Grace Lee", "admin"},
  };

  host::SessionLease s(db, 30s);
  if (!s) throw DatabaseError("no database session free for seeding");
  bool seeded = false;
  locked(*s, db.dialect(), [&] {
    long long count = 0;
    *s << "SELECT COUNT(*) FROM host_clinics", soci::into(count);
    if (count > 0) return;
    for (const auto& c : clinics) {
      std::string name = c.name, tier = c.tier, tz;
      *s << "INSERT INTO host_clinics (id, name, tier, time_zone) VALUES (:i, :n, :t, :z)",
          soci::use(c.id), soci::use(name), soci::use(tier), soci::use(tz);
      if (c.addon != nullptr) {
        std::string addon = c.addon;
        *s << "INSERT INTO host_clinic_addons (clinic_id, addon) VALUES (:c, :a)", soci::use(c.id),
            soci::use(addon);
      }
      std::vector<long long> patient_ids;
      for (const auto& p : c.patients) {
        std::string first = p.first, last = p.last, birth = p.birth;
        long long id = 0;
        *s << "INSERT INTO host_patients (clinic_id, first_name, last_name, birth_date)"
              " VALUES (:c, :f, :l, :b) RETURNING id",
            soci::use(c.id), soci::use(first), soci::use(last), soci::use(birth), soci::into(id);
        patient_ids.push_back(id);
      }
      for (const auto& a : c.appointments) {
        std::string starts = a.starts_at, reason = a.reason;
        long long patient = patient_ids.at(static_cast<std::size_t>(a.patient));
        int minutes = a.minutes;
        *s << "INSERT INTO host_appointments (clinic_id, patient_id, starts_at, duration_minutes,"
              " reason) VALUES (:c, :p, :s, :m, :r)",
            soci::use(c.id), soci::use(patient), soci::use(starts), soci::use(minutes),
            soci::use(reason);
      }
    }
    // Dev-only password for every demo account (README). Hashed, never stored in clear.
    for (const auto& u : users) {
      std::string email = u.email, name = u.name, role = u.role, hash = hash_password("devpass");
      *s << "INSERT INTO host_users (id, clinic_id, email, name, role, password_hash)"
            " VALUES (:i, :c, :e, :n, :r, :h)",
          soci::use(u.id), soci::use(u.clinic), soci::use(email), soci::use(name), soci::use(role),
          soci::use(hash);
    }
    seeded = true;
  });
  return seeded;
}

bool set_clinic_time_zone(host::Database& db, long long clinic_id, const std::string& zone) {
  host::SessionLease s(db, 30s);
  if (!s) throw DatabaseError("no database session free to set a clinic's time zone");
  std::string z = zone;
  soci::statement st = (s->prepare << "UPDATE host_clinics SET time_zone = :z WHERE id = :i", soci::use(z),
                        soci::use(clinic_id));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

std::string hash_password(std::string_view password) {
  // Argon2id (y=2), 19 MiB, 2 passes, 1 lane: OWASP's minimum for Argon2id.
  return Botan::argon2_generate_pwhash(password.data(), password.size(), Botan::system_rng(),
                                       /*p=*/1, /*M=*/19456, /*t=*/2, /*y=*/2);
}

bool check_password(std::string_view password, const std::string& stored_hash) noexcept {
  try {
    return Botan::argon2_check_pwhash(password.data(), password.size(), stored_hash);
  } catch (...) {
    return false;
  }
}

}  // namespace mdp::devhost
