#include "plugin_test_host.hpp"

#include <atomic>
#include <cctype>
#include <sstream>
#include <unistd.h>

#include <soci/soci.h>

#include "mdp/host/sdk/migrations.hpp"

namespace mdp::api_access::test {

namespace json = boost::json;

std::string dialect_name(host::Dialect d) {
  return d == host::Dialect::sqlite ? "SQLite" : "PostgreSQL";
}

host::User admin_a() { return {11, kClinicA, "Olivia Hart", "owner@brightsmiles.test", "admin"}; }
host::User admin_b() { return {21, kClinicB, "Dan Down", "admin@downtown.test", "admin"}; }
host::User admin_no_plan() { return {31, kClinicNoPlan, "Lee Lake", "admin@lake.test", "admin"}; }

TestHost::TestHost(host::Dialect d, std::string pg, std::filesystem::path path, bool fresh)
    : dialect(d), sqlite_path(std::move(path)) {
  if (d == host::Dialect::sqlite) {
    if (fresh) std::filesystem::remove(sqlite_path);
    db = std::make_unique<devhost::SociDatabase>(d, sqlite_path.string(), 4);
  } else {
    if (fresh) {
      devhost::SociDatabase admin(d, pg, 1);
      std::size_t token = 0;
      soci::session* s = admin.borrow(std::chrono::seconds(5), token);
      devhost::execute_script(*s, d, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
      admin.give_back(token);
    }
    db = std::make_unique<devhost::SociDatabase>(d, pg, 4);
  }
  faults = std::make_unique<FaultyDatabase>(*db);
  host::sdk::apply_migrations(*db, "api-access",
                            std::filesystem::path(MDP_SQL_DIR) /
                                (d == host::Dialect::sqlite ? "sqlite" : "postgresql"));
  // A fixed, mid-day start keeps day arithmetic in tests predictable.
  clock_.set(host::TimePoint(std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}) +
             std::chrono::hours(9) + std::chrono::minutes(30));
  for (auto u : {admin_a(), admin_b(), admin_no_plan()}) dir.users[u.id] = u;
  dir.clinics[kClinicA] = {kClinicA, "Bright Smiles Dental", ""};
  dir.clinics[kClinicB] = {kClinicB, "Lakeside Family Dentistry", ""};
  dir.clinics[kClinicNoPlan] = {kClinicNoPlan, "Downtown Dental", ""};
  subs.set(kClinicA, true);
  subs.set(kClinicB, true);
  subs.set(kClinicNoPlan, false);
  scopes = {{"read", "Read every GET of the public API", false},
            {"appointments:write", "Create and change appointments", true},
            {"patients:write", "Create and change patients", true}};
}

TestHost::~TestHost() = default;

std::string TestHost::dump_database() {
  std::ostringstream out;
  std::size_t token = 0;
  soci::session* s = db->borrow(std::chrono::seconds(5), token);
  std::vector<std::string> tables;
  {
    std::string name;
    soci::statement st =
        dialect == host::Dialect::sqlite
            ? (s->prepare << "SELECT name FROM sqlite_master WHERE type = 'table'", soci::into(name))
            : (s->prepare << "SELECT table_name FROM information_schema.tables "
                             "WHERE table_schema = 'public'",
               soci::into(name));
    st.execute();
    while (st.fetch()) tables.push_back(name);
  }
  for (const auto& t : tables) {
    // Every column cast to text, so no type can hide a value. Table and column names come from
    // the catalog, not from user input.
    std::string q;
    if (dialect == host::Dialect::sqlite) {
      std::vector<std::string> cols;
      std::string col;
      soci::statement ci = (s->prepare << "SELECT name FROM pragma_table_info(:t)", soci::use(t),
                            soci::into(col));
      ci.execute();
      while (ci.fetch()) cols.push_back(col);
      for (const auto& c : cols) q += (q.empty() ? "" : " || '|' || ") + std::string("COALESCE(CAST(\"") + c + "\" AS TEXT), 'NULL')";
      q = "SELECT " + q + " FROM \"" + t + "\"";
    } else {
      q = "SELECT CAST(t AS TEXT) FROM \"" + t + "\" t";
    }
    out << "== " << t << "\n";
    std::string line;
    soci::indicator ind = soci::i_null;
    soci::statement st = (s->prepare << q, soci::into(line, ind));
    st.execute();
    while (st.fetch()) out << (ind == soci::i_ok ? line : "NULL") << "\n";
  }
  db->give_back(token);
  return out.str();
}

std::size_t FakeApiRequest::headers(std::string_view name, std::string_view* out,
                                    std::size_t max) const noexcept {
  std::size_t n = 0;
  for (const auto& [k, v] : headers_) {
    bool same = k.size() == name.size();
    for (std::size_t i = 0; same && i < k.size(); ++i)
      same = std::tolower(static_cast<unsigned char>(k[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    if (!same) continue;
    if (n < max) out[n] = v;
    ++n;
  }
  return n;
}

std::string RouteResult::error_code() const {
  if (!json.is_object()) return "";
  const auto* e = json.as_object().if_contains("error");
  if (e == nullptr || !e->is_object()) return "";
  const auto* c = e->as_object().if_contains("code");
  return c != nullptr && c->is_string() ? std::string(c->as_string()) : "";
}

void PluginTest::SetUp() {
  if (GetParam() == host::Dialect::postgresql) {
    const char* pg = std::getenv("MDP_TEST_PG");
    if (pg == nullptr || *pg == '\0') {
      const char* req = std::getenv("MDP_REQUIRE_PG");
      if (req != nullptr && std::string(req) == "1") FAIL() << "MDP_REQUIRE_PG=1 but MDP_TEST_PG unset";
      GTEST_SKIP() << "MDP_TEST_PG not set (run under scripts/with-postgres.sh)";
    }
    pg_ = pg;
  }
  static std::atomic<int> seq{0};
  auto path = std::filesystem::temp_directory_path() /
              ("mdp-plugin-test-" + std::to_string(::getpid()) + "-" + std::to_string(seq++) + ".db");
  host_ = std::make_unique<TestHost>(GetParam(), pg_, path, true);
  load_plugin();
}

void PluginTest::TearDown() {
  stop_plugin();
  if (host_ && host_->dialect == host::Dialect::sqlite) {
    auto p = host_->sqlite_path;
    host_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suffix);
  }
  host_.reset();
}

void PluginTest::load_plugin() {
  plugin_ = std::make_shared<ApiAccessPlugin>();
  reg_ = std::make_unique<TestRegistrar>();
  const auto r = plugin_->on_load(*host_, *reg_);
  ASSERT_TRUE(r.ok) << r.message;
  ASSERT_TRUE(reg_->hook);
}

void PluginTest::stop_plugin() {
  if (!plugin_) return;
  plugin_->on_stop();
  reg_.reset();  // the host drops what the plugin registered, then the plugin
  plugin_.reset();
}

void PluginTest::restart_plugin() {
  stop_plugin();
  load_plugin();
}

namespace {
// Matches "keys/{id}/revoke" against "keys/42/revoke".
bool match(const std::string& pattern, const std::string& path, std::vector<host::NameValue>& params) {
  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (true) {
      auto slash = s.find('/', pos);
      out.push_back(s.substr(pos, slash - pos));
      if (slash == std::string::npos) break;
      pos = slash + 1;
    }
    return out;
  };
  const auto p = split(pattern), q = split(path);
  if (p.size() != q.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i].size() > 2 && p[i].front() == '{') {
      if (q[i].empty()) return false;
      params.emplace_back(p[i].substr(1, p[i].size() - 2), q[i]);
    } else if (p[i] != q[i]) {
      return false;
    }
  }
  return true;
}
}  // namespace

RouteResult PluginTest::call(const std::string& method, const std::string& target,
                             const std::string& body, const host::User& user) {
  return call_as(method, target, body, user, "application/json");
}

RouteResult PluginTest::call_as(const std::string& method, const std::string& target, const std::string& body,
                                const host::User& user, const std::string& content_type) {
  host::RouteRequest req;
  req.method = method;
  req.body = body;
  req.user = user;
  std::string path = target;
  if (auto q = target.find('?'); q != std::string::npos) {
    path = target.substr(0, q);
    std::string qs = target.substr(q + 1);
    std::size_t pos = 0;
    while (pos <= qs.size()) {
      auto amp = qs.find('&', pos);
      std::string pair = qs.substr(pos, amp - pos);
      auto eq = pair.find('=');
      req.query.emplace_back(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
      if (amp == std::string::npos) break;
      pos = amp + 1;
    }
  }
  req.path = path;
  for (const auto& r : reg_->routes) {
    if (r.method != method || !match(r.pattern, path, req.params)) continue;
    EXPECT_EQ(r.permission, "api_keys.manage");
    host::Response resp = r.handler(req);
    RouteResult out;
    out.status = resp.status;
    out.body = resp.body;
    out.headers = resp.headers;
    EXPECT_EQ(resp.content_type, resp.status == 200 ? content_type : "application/json");
    if (resp.content_type == "application/json") {
      json::error_code ec;
      out.json = json::parse(resp.body, ec);
      EXPECT_FALSE(ec) << "not JSON: " << resp.body;
    }
    return out;
  }
  ADD_FAILURE() << "no route for " << method << " " << path;
  return {};
}

std::pair<std::int64_t, std::string> PluginTest::create_key(const std::string& label,
                                                            const std::string& scopes_json,
                                                            const host::User& user) {
  json::object body{{"label", label}};
  body["scopes"] = json::parse(scopes_json);
  auto r = call("POST", "keys", json::serialize(body), user);
  EXPECT_EQ(r.status, 201) << r.body;
  if (r.status != 201) return {0, ""};
  return {r.json.at("key").at("id").as_int64(), std::string(r.json.at("secret").as_string())};
}

host::ApiDecision PluginTest::decide(const FakeApiRequest& r, int response_status) {
  host::ApiDecision d;
  reg_->hook->on_api_request(r, d);
  const int status = response_status >= 0 ? response_status : (d.allowed ? 200 : d.status);
  reg_->hook->on_api_response(d.token, status);
  return d;
}

host::ApiDecision PluginTest::decide_key(const std::string& key, const std::string& scope,
                                         int response_status) {
  FakeApiRequest r;
  r.scope_ = scope;
  r.bearer(key);
  return decide(r, response_status);
}

}  // namespace mdp::api_access::test
