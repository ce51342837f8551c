// The error catalogue (plugin/src/errors/error_codes.def) against the code that answers errors
// and the docs: every code the sources can send is catalogued with the status they send it with,
// every catalogued code is sent somewhere, docs/errors.md is the generated text, and bodies link
// to their entry.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <boost/json.hpp>

#include "errors/error_catalogue.hpp"
#include "openapi_errors.hpp"
#include "util/json_error.hpp"

namespace fs = std::filesystem;
using namespace mdp::api_access;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A code found in a source file, with the status sent along when the call site names it.
struct Use {
  std::string where;
  int status = 0;  // 0: the call site does not say (it is checked elsewhere or not at all)
};

// Every error code the plugin's sources send, by the patterns they send them with.
std::multimap<std::string, Use> codes_in_sources() {
  std::multimap<std::string, Use> uses;
  const std::regex with_status(R"((?:HttpError\{|error_response\()\s*(\d{3}),\s*"([a-z0-9_]+)\")");
  const std::regex without_status(
      R"((?:error_body\(|error_doc_ref\(|"code"\]\s*=\s*)\s*"([a-z0-9_]+)\"|"code":"([a-z0-9_]+)\")");
  // The request hook prepares bodies once (name_(error_body("code", ...)) and refuses with
  // refuse(d, status, name_): the status of each code is read from the pair.
  const std::regex member_body(R"((\w+_)\(error_body\(\s*"([a-z0-9_]+)\")");
  const std::regex member_refusal(R"(refuse\(d,\s*(\d{3}),\s*(\w+_)\))");
  for (const auto& f : fs::recursive_directory_iterator(fs::path(MDP_SOURCE_DIR) / "plugin/src")) {
    const auto ext = f.path().extension();
    if (ext != ".cpp" && ext != ".hpp") continue;
    const std::string text = slurp(f.path());
    const std::string where = fs::relative(f.path(), MDP_SOURCE_DIR).string();
    for (std::sregex_iterator m(text.begin(), text.end(), with_status), end; m != end; ++m)
      uses.emplace((*m)[2].str(), Use{where, std::stoi((*m)[1].str())});
    for (std::sregex_iterator m(text.begin(), text.end(), without_status), end; m != end; ++m)
      uses.emplace((*m)[1].matched ? (*m)[1].str() : (*m)[2].str(), Use{where, 0});
    std::map<std::string, std::string> member_code;
    for (std::sregex_iterator m(text.begin(), text.end(), member_body), end; m != end; ++m)
      member_code[(*m)[1].str()] = (*m)[2].str();
    for (std::sregex_iterator m(text.begin(), text.end(), member_refusal), end; m != end; ++m)
      if (auto it = member_code.find((*m)[2].str()); it != member_code.end())
        uses.emplace(it->second, Use{where, std::stoi((*m)[1].str())});
  }
  return uses;
}

}  // namespace

TEST(ErrorCatalogue, EntriesAreWellFormed) {
  std::set<std::string_view> seen;
  const std::regex snake("[a-z][a-z0-9_]*");
  for (const auto& e : error_catalogue()) {
    SCOPED_TRACE(std::string(e.code));
    EXPECT_TRUE(seen.insert(e.code).second) << "listed twice";
    EXPECT_TRUE(std::regex_match(std::string(e.code), snake));
    EXPECT_GE(e.status, 400);
    EXPECT_LE(e.status, 599);
    EXPECT_FALSE(e.message.empty());
    EXPECT_FALSE(e.action.empty());
    EXPECT_EQ(find_error(e.code), &e);
  }
  EXPECT_GE(seen.size(), 20u);
  EXPECT_EQ(find_error("no_such_code"), nullptr);
}

TEST(ErrorCatalogue, EveryCodeTheSourcesSendIsCataloguedWithItsStatus) {
  const auto uses = codes_in_sources();
  // The scan must see the codes it is meant to see; an empty scan would pass anything.
  ASSERT_TRUE(uses.count("revoked_api_key"));
  ASSERT_TRUE(uses.count("key_not_found"));
  ASSERT_TRUE(uses.count("insufficient_scope"));
  for (const auto& [code, use] : uses) {
    SCOPED_TRACE(code + " in " + use.where);
    const ErrorEntry* e = find_error(code);
    ASSERT_NE(e, nullptr) << "add it to plugin/src/errors/error_codes.def";
    if (use.status != 0) {
      EXPECT_EQ(use.status, e->status);
    }
  }
  // The hook's refusals were read with their statuses (the member/refuse pairing worked).
  const auto [lo, hi] = uses.equal_range("too_many_failed_attempts");
  bool with_status = false;
  for (auto it = lo; it != hi; ++it) with_status |= it->second.status == 429;
  EXPECT_TRUE(with_status);
}

TEST(ErrorCatalogue, EveryCataloguedCodeIsSentSomewhere) {
  const auto uses = codes_in_sources();
  for (const auto& e : error_catalogue())
    EXPECT_TRUE(uses.count(std::string(e.code))) << e.code << " is catalogued but never sent";
}

TEST(ErrorCatalogue, DocsPageIsCurrent) {
  const fs::path page = fs::path(MDP_SOURCE_DIR) / "docs/errors.md";
  ASSERT_TRUE(fs::exists(page));
  EXPECT_TRUE(slurp(page) == errors_markdown())
      << "docs/errors.md is stale: cmake --build --preset dev --target error-docs";
  const std::string md = errors_markdown();
  std::size_t advice = 0;
  for (auto at = md.find("**What to do:** "); at != std::string::npos; at = md.find("**What to do:** ", at + 1))
    ++advice;
  EXPECT_EQ(advice, error_catalogue().size());
  for (const auto& e : error_catalogue())
    EXPECT_NE(md.find("\n## " + std::string(e.code) + "\n"), std::string::npos) << e.code;
  // Markdown would swallow "<key>" as an HTML tag.
  EXPECT_NE(md.find("Bearer &lt;key>"), std::string::npos);
}

// docs/openapi.json lists the codes the catalogue has, generated from it (target openapi-doc):
// the checked-in file must be exactly what the generator makes of it.
TEST(ErrorCatalogue, OpenApiDocumentIsCurrent) {
  const fs::path file = fs::path(MDP_SOURCE_DIR) / "docs/openapi.json";
  ASSERT_TRUE(fs::exists(file));
  const std::string text = slurp(file);
  EXPECT_TRUE(text == openapi_with_catalogue(text))
      << "docs/openapi.json is stale: cmake --build --preset dev --target openapi-doc";
  namespace json = boost::json;
  const json::value doc = json::parse(text);
  const auto& schemas = doc.at("components").at("schemas");
  std::set<std::string> listed;
  for (const auto& c : schemas.at("ErrorCode").at("enum").as_array()) listed.insert(std::string(c.as_string()));
  std::set<std::string> catalogued;
  for (const auto& e : error_catalogue()) {
    catalogued.insert(std::string(e.code));
    // Each code is in the schema of its status, which the document's responses refer to.
    const auto& codes = schemas.at("PluginError" + std::to_string(e.status))
                            .at("properties").at("error").at("properties").at("code").at("enum").as_array();
    EXPECT_NE(std::find(codes.begin(), codes.end(), json::value(e.code)), codes.end()) << e.code;
  }
  EXPECT_EQ(listed, catalogued);
}

// The generator replaces what it owns and keeps the rest of the document.
TEST(ErrorCatalogue, OpenApiGeneratorFillsOnlyTheCodes) {
  namespace json = boost::json;
  const std::string out = openapi_with_catalogue(
      R"({"openapi":"3.1.0","x-kept":[1,{"a":"\u00e9"}],"components":{"schemas":{"PluginError999":{},"Other":{"type":"string"}}}})");
  const json::value v = json::parse(out);
  EXPECT_EQ(v.at("x-kept"), json::parse(R"([1,{"a":"\u00e9"}])"));
  const auto& schemas = v.at("components").at("schemas").as_object();
  EXPECT_FALSE(schemas.contains("PluginError999"));  // no code has that status
  EXPECT_EQ(schemas.at("Other"), json::parse(R"({"type":"string"})"));
  EXPECT_EQ(schemas.at("ErrorCode").at("enum").as_array().size(), error_catalogue().size());
  EXPECT_TRUE(schemas.contains("PluginError401"));
  EXPECT_EQ(out.substr(0, 24), "{\n  \"openapi\": \"3.1.0\",\n");
  EXPECT_THROW(openapi_with_catalogue("[]"), std::runtime_error);
  EXPECT_THROW(openapi_with_catalogue(R"({"components":{}})"), std::runtime_error);
}

TEST(ErrorCatalogue, BodiesLinkTheirEntry) {
  namespace json = boost::json;
  const json::value v = json::parse(error_body("revoked_api_key", "Revoked."));
  EXPECT_EQ(v.at("error").at("doc").as_string(), "/plugins/api-access/errors#revoked_api_key");
  EXPECT_EQ(v.at("error").at("message").as_string(), "Revoked.");
  const auto r = error_response(404, "key_not_found", "No.");
  EXPECT_EQ(json::parse(r.body).at("error").at("doc").as_string(),
            "/plugins/api-access/errors#key_not_found");
  // Without a message of its own, a body carries the catalogue's.
  const json::value own = json::parse(error_body("expired_api_key"));
  EXPECT_EQ(own.at("error").at("message").as_string(), find_error("expired_api_key")->message);
  // A code the catalogue lacks still answers, without a link to nowhere.
  EXPECT_FALSE(json::parse(error_body("not_catalogued", "x")).at("error").as_object().contains("doc"));
  // The served page has an anchor per code.
  const std::string html = errors_html();
  for (const auto& e : error_catalogue())
    EXPECT_NE(html.find("id=\"" + std::string(e.code) + "\""), std::string::npos) << e.code;
}
