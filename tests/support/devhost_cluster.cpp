#include "support/devhost_cluster.hpp"

#include <stdexcept>
#include <thread>

#include <boost/json.hpp>

namespace mdp::test {

namespace json = boost::json;

DevhostCluster::DevhostCluster(std::size_t hosts, std::vector<std::string> extra_args)
    : pg_(std::make_unique<PgCluster>()) {
  for (std::size_t i = 0; i < hosts; ++i) {
    DevhostOptions o;
    // Both forms of --database the devhost accepts, on the same server: odd hosts get the
    // postgresql:// URL, even ones the libpq key=value string.
    o.database = i % 2 == 1 ? pg_->url() : pg_->conninfo();
    o.extra_args = extra_args;
    hosts_.push_back(std::make_unique<DevhostProcess>(std::move(o)));
  }
  // The first host migrates and seeds; starting the others meanwhile would race on that.
  if (!hosts_.empty()) hosts_[0]->start();
  for (std::size_t i = 1; i < hosts_.size(); ++i) hosts_[i]->start();
}

DevhostCluster::~DevhostCluster() {
  for (auto& h : hosts_) h->stop();
  hosts_.clear();
  pg_.reset();
}

std::string DevhostCluster::logs(std::size_t lines) const {
  std::string out;
  for (std::size_t i = 0; i < hosts_.size(); ++i) {
    const std::string text = hosts_[i]->stderr_text();
    std::size_t start = text.size(), newlines = 0;
    while (start > 0) {
      if (text[start - 1] == '\n' && ++newlines > lines) break;
      --start;
    }
    out += "--- host " + std::to_string(i) + " stderr (last " + std::to_string(lines) +
           " lines) ---\n" + text.substr(start);
  }
  return out;
}

std::string error_code(const HttpResult& r) {
  json::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return "";
  const json::value* e = v.as_object().if_contains("error");
  if (e == nullptr || !e->is_object()) return "";
  const json::value* c = e->as_object().if_contains("code");
  return c != nullptr && c->is_string() ? std::string(c->as_string()) : "";
}

std::string describe(const HttpResult& r) {
  std::string code = error_code(r);
  return "HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code);
}

HttpResult call_api(HttpClient& client, const std::string& key, const std::string& target) {
  return client.get(target, {{"Authorization", "Bearer " + key}});
}

bool poll_until(std::chrono::milliseconds limit, const std::function<bool()>& done,
                std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(interval);
  }
  return done();
}

namespace {

json::object parse_object(const HttpResult& r, const std::string& what) {
  json::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) throw std::runtime_error(what + ": not a JSON object: " + r.body);
  return v.as_object();
}

void expect_status(const HttpResult& r, int status, const std::string& what) {
  if (r.status != status)
    throw std::runtime_error(what + ": expected HTTP " + std::to_string(status) + ", got " +
                             std::to_string(r.status) + " " + r.body);
}

ApiKey key_of(const HttpResult& r, const std::string& what) {
  json::object o = parse_object(r, what);
  ApiKey k;
  k.id = o.at("key").as_object().at("id").to_number<std::int64_t>();
  k.secret = std::string(o.at("secret").as_string());
  return k;
}

}  // namespace

AdminSession::AdminSession(unsigned short port, const std::string& email)
    : http_("127.0.0.1", port, /*keep_alive=*/true) {
  auto s = login(http_, email);
  if (!s) throw std::runtime_error("login as " + email + " failed on port " + std::to_string(port));
  session_ = *s;
}

HttpResult AdminSession::get(const std::string& target) {
  return http_.get(target, session_.headers(false));
}
HttpResult AdminSession::post(const std::string& target, const std::string& body) {
  return http_.post(target, body, session_.headers(true));
}
HttpResult AdminSession::del(const std::string& target) {
  return http_.request("DELETE", target, "", session_.headers(true));
}

ApiKey AdminSession::create_key(const std::string& label, const std::string& scopes_json) {
  json::object body{{"label", label}, {"scopes", json::parse(scopes_json)}};
  HttpResult r = post("/plugins/api-access/keys", json::serialize(body));
  expect_status(r, 201, "create key");
  return key_of(r, "create key");
}

void AdminSession::revoke(std::int64_t key_id) {
  HttpResult r = post("/plugins/api-access/keys/" + std::to_string(key_id) + "/revoke");
  expect_status(r, 200, "revoke key");
}

ApiKey AdminSession::rotate(std::int64_t key_id, long long grace_seconds) {
  json::object body{{"grace_seconds", grace_seconds}};
  HttpResult r =
      post("/plugins/api-access/keys/" + std::to_string(key_id) + "/rotate", json::serialize(body));
  expect_status(r, 201, "rotate key");
  return key_of(r, "rotate key");
}

long long AdminSession::usage_requests(std::int64_t key_id) {
  HttpResult r = get("/plugins/api-access/keys/" + std::to_string(key_id) + "/usage?days=90");
  expect_status(r, 200, "key usage");
  return parse_object(r, "key usage").at("requests").to_number<long long>();
}

void AdminSession::set_addon(const std::string& addon, bool owned) {
  const std::string target = "/billing/addons/" + addon;
  HttpResult r = owned ? post(target) : del(target);
  if (r.status / 100 != 2)
    throw std::runtime_error(std::string(owned ? "buy" : "cancel") + " addon: HTTP " +
                             std::to_string(r.status) + " " + r.body);
}

void AdminSession::advance_clock(std::chrono::seconds by) {
  json::object body{{"advance_seconds", by.count()}};
  HttpResult r = http_.post("/__test/clock", json::serialize(body));
  expect_status(r, 200, "advance test clock");
}

}  // namespace mdp::test
