// The devhost serving the settings pages over real HTTP (child process, fresh SQLite file): the
// page assets by versioned URL with caching, and gzip for pages and assets when the client
// accepts it (JSON never: admin answers can hold a one-time secret).
#include <string>

#include <gtest/gtest.h>
#include <zlib.h>

#include "support/devhost_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace {

using mdp::test::DevhostOptions;
using mdp::test::DevhostProcess;
using mdp::test::HttpClient;
using mdp::test::HttpResult;
using mdp::test::TempDir;

// gunzip with zlib (16 + MAX_WBITS: a gzip wrapper); throws on anything that is not gzip.
std::string gunzip(const std::string& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error("inflateInit2");
  std::string out(in.size() * 30 + 1024, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("not a complete gzip stream");
  return out;
}

class PageHttp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    DevhostOptions o;
    o.database = mdp::test::sqlite_database(*dir_);
    host_ = new DevhostProcess(o);
    host_->start();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(host_->stop(), 0) << host_->stderr_text();
    delete host_;
    delete dir_;
  }
  HttpClient client() { return HttpClient("127.0.0.1", host_->port()); }
  static TempDir* dir_;
  static DevhostProcess* host_;
};
TempDir* PageHttp::dir_ = nullptr;
DevhostProcess* PageHttp::host_ = nullptr;

// The URL a page links for `name`, read from the login page (no session needed).
std::string asset_url_in(const std::string& html, const std::string& name) {
  const std::string prefix = "/assets/" + name + "?v=";
  const auto at = html.find(prefix);
  if (at == std::string::npos) return {};
  return html.substr(at, html.find('"', at) - at);
}

TEST_F(PageHttp, AssetsAreServedByVersionedUrlAndRevalidatedOtherwise) {
  auto c = client();
  const auto login = c.get("/login");
  ASSERT_EQ(login.status, 200);
  const std::string css = asset_url_in(login.body, "app.css");
  const std::string js = asset_url_in(login.body, "login.js");
  ASSERT_FALSE(css.empty());
  ASSERT_FALSE(js.empty());

  auto r = c.get(css);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(r.header("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_NE(r.body.find("prefers-color-scheme: dark"), std::string::npos);
  const std::string etag = r.header("ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(c.get(js).header("Content-Type"), "text/javascript; charset=utf-8");

  // Without the current version: served, but to be revalidated; a matching ETag gets a 304.
  r = c.get("/assets/app.css?v=old");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Cache-Control"), "no-cache");
  r = c.get("/assets/app.css", {{"If-None-Match", etag}});
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());

  EXPECT_EQ(c.get("/assets/nope.js").status, 404);
  EXPECT_EQ(c.get("/assets/../settings").status, 404);  // no climbing out of /assets/
  EXPECT_EQ(c.get("/assets/app.css/x").status, 404);
  EXPECT_EQ(c.post("/assets/app.css", "").status, 405);
}

TEST_F(PageHttp, PagesAndAssetsAreGzippedWhenTheClientAcceptsIt) {
  auto c = client();
  const auto plain = c.get("/login");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.header("Content-Encoding"), "");
  EXPECT_EQ(plain.header("Vary"), "Accept-Encoding");

  const auto packed = c.get("/login", {{"Accept-Encoding", "br;q=1.0, gzip;q=0.8, *;q=0.1"}});
  ASSERT_EQ(packed.status, 200);
  EXPECT_EQ(packed.header("Content-Encoding"), "gzip");
  EXPECT_EQ(packed.header("Vary"), "Accept-Encoding");
  EXPECT_EQ(gunzip(packed.body), plain.body);
  EXPECT_LT(packed.body.size(), plain.body.size());

  const std::string css = asset_url_in(plain.body, "app.css");
  const auto css_plain = c.get(css);
  const auto css_packed = c.get(css, {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(css_packed.header("Content-Encoding"), "gzip");
  EXPECT_EQ(gunzip(css_packed.body), css_plain.body);
  EXPECT_LT(css_packed.body.size() * 3, css_plain.body.size());

  // Refused, or another coding only: plain.
  EXPECT_EQ(c.get("/login", {{"Accept-Encoding", "gzip;q=0"}}).header("Content-Encoding"), "");
  EXPECT_EQ(c.get("/login", {{"Accept-Encoding", "gzip;q=0.000, br"}}).header("Content-Encoding"), "");
  EXPECT_EQ(c.get("/login", {{"Accept-Encoding", "deflate, br"}}).header("Content-Encoding"), "");
  EXPECT_EQ(c.get("/login", {{"Accept-Encoding", "x-gzip-like"}}).header("Content-Encoding"), "");
  EXPECT_EQ(c.get("/login", {{"Accept-Encoding", "GZIP"}}).header("Content-Encoding"), "gzip");

  // JSON is never compressed (a create/rotate answer carries a secret next to a chosen label).
  const auto json = c.post("/login", R"({"email":"owner@brightsmiles.test","password":"devpass"})",
                           {{"Content-Type", "application/json"}, {"Accept-Encoding", "gzip"}});
  EXPECT_EQ(json.status, 200);
  EXPECT_EQ(json.header("Content-Encoding"), "");
}

}  // namespace
