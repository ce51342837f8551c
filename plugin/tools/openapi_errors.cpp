#include "openapi_errors.hpp"

#include <cstdlib>
#include <map>
#include <stdexcept>

#include <boost/json.hpp>

#include "errors/error_catalogue.hpp"

namespace mdp::api_access {

namespace json = boost::json;

namespace {

// The layout of JSON.stringify(value, null, 2), so hand edits in any editor stay close to it.
void pretty(std::string& out, const json::value& v, std::size_t indent) {
  const std::string pad(indent + 2, ' ');
  if (const json::object* o = v.if_object()) {
    if (o->empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& kv : *o) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      out += json::serialize(json::string(kv.key()));
      out += ": ";
      pretty(out, kv.value(), indent + 2);
    }
    out += "\n" + std::string(indent, ' ') + "}";
  } else if (const json::array* a = v.if_array()) {
    if (a->empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    bool first = true;
    for (const auto& e : *a) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      pretty(out, e, indent + 2);
    }
    out += "\n" + std::string(indent, ' ') + "]";
  } else {
    out += json::serialize(v);
  }
}

}  // namespace

std::string openapi_with_catalogue(std::string_view document) {
  json::error_code ec;
  json::value doc = json::parse(document, ec);
  if (ec || !doc.is_object()) throw std::runtime_error("the OpenAPI document is not a JSON object");
  json::object* components = doc.as_object().if_contains("components")
                                 ? doc.as_object()["components"].if_object()
                                 : nullptr;
  json::object* schemas = components != nullptr && components->if_contains("schemas")
                              ? (*components)["schemas"].if_object()
                              : nullptr;
  if (schemas == nullptr) throw std::runtime_error("the OpenAPI document has no components.schemas");

  json::array all;
  json::object descriptions;
  std::map<int, json::array> by_status;
  for (const ErrorEntry& e : error_catalogue()) {
    all.emplace_back(e.code);
    descriptions[e.code] = std::to_string(e.status) + ": " + std::string(e.message);
    by_status[e.status].emplace_back(e.code);
  }
  (*schemas)["ErrorCode"] = json::object{
      {"type", "string"},
      {"description",
       "Every code the plugin answers, generated from its error catalogue "
       "(plugin/src/errors/error_codes.def). Stable: branch on it. What to do for each: "
       "GET /plugins/api-access/errors#<code>."},
      {"enum", std::move(all)},
      {"x-enumDescriptions", std::move(descriptions)}};

  // Drop PluginError<status> schemas of statuses the catalogue no longer has.
  for (auto it = schemas->begin(); it != schemas->end();) {
    const std::string_view name = it->key();
    if (name.size() == 14 && name.substr(0, 11) == "PluginError" && !by_status.count(std::atoi(std::string(name.substr(11)).c_str())))
      it = schemas->erase(it);
    else
      ++it;
  }
  for (auto& [status, codes] : by_status) {
    (*schemas)["PluginError" + std::to_string(status)] = json::object{
        {"description", "An error of the plugin with status " + std::to_string(status) +
                            ": one of the codes the catalogue answers with it."},
        {"allOf", json::array{json::object{{"$ref", "#/components/schemas/PluginError"}}}},
        {"type", "object"},
        {"properties",
         json::object{{"error", json::object{{"type", "object"},
                                             {"properties",
                                              json::object{{"code", json::object{{"type", "string"},
                                                                                 {"enum", std::move(codes)}}}}}}}}}};
  }

  std::string out;
  pretty(out, doc, 0);
  out += '\n';
  return out;
}

}  // namespace mdp::api_access
