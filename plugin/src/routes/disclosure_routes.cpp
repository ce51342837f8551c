#include "routes/disclosure_routes.hpp"

#include <set>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api_access_plugin.hpp"
#include "disclosure/disclosure_store.hpp"
#include "plugin_context.hpp"
#include "routes/route_support.hpp"
#include "util/json_error.hpp"

namespace mdp::api_access {

namespace json = boost::json;

namespace {

constexpr int kDefaultDays = 30;
constexpr std::size_t kMaxRows = 100'000;
constexpr const char* kPatient = "patient";

struct Range {
  DayNumber from = 0, to = 0;
  bool csv = false;
};

Range range_of(const PluginContext& ctx, const host::RouteRequest& req) {
  Range r;
  r.to = day_of(ctx.now());
  r.from = r.to - (kDefaultDays - 1);
  auto day = [&](const char* name, DayNumber& out) {
    const std::string* v = req.query_value(name);
    if (v == nullptr) return;
    const auto d = parse_day(*v);
    if (!d)
      throw HttpError{400, "invalid_range",
                      std::string("\"") + name + "\" must be a day written YYYY-MM-DD, e.g. \"2026-11-26\"."};
    out = *d;
  };
  const bool has_from = req.query_value("from") != nullptr, has_to = req.query_value("to") != nullptr;
  day("to", r.to);
  day("from", r.from);
  if (has_to && !has_from) r.from = r.to - (kDefaultDays - 1);
  if (r.from > r.to) throw HttpError{400, "invalid_range", "\"from\" must not be after \"to\"."};
  const int most = ctx.config.disclosure_retention_days;
  if (r.to - r.from + 1 > most)
    throw HttpError{400, "invalid_range",
                    "The range may span at most " + std::to_string(most) + " days (the retention)."};
  if (const std::string* f = req.query_value("format")) {
    if (*f == "csv") r.csv = true;
    else if (*f != "json") throw HttpError{400, "invalid_format", "\"format\" must be json or csv."};
  }
  return r;
}

const char* access_name(host::RecordAccess a) { return a == host::RecordAccess::write ? "write" : "read"; }

void check_size(const std::vector<DisclosureEntry>& rows) {
  if (rows.size() > kMaxRows)
    throw HttpError{400, "too_many_records",
                    "More than 100000 rows in this range: export a shorter range, e.g. a month at a time."};
}

std::string csv(const std::vector<DisclosureEntry>& rows) {
  std::string out = "date,key_id,key_label,key_preview,record_type,record_id,access,requests,first_at,last_at\r\n";
  for (const auto& e : rows) {
    out += format_date(e.row.day) + "," + std::to_string(e.row.key_id) + "," + csv_field(e.key_label) + "," +
           csv_field(e.key_preview) + "," + csv_field(e.row.record_type) + "," + std::to_string(e.row.record_id) +
           "," + access_name(e.row.access) + "," + std::to_string(e.row.requests) + "," +
           format_rfc3339(e.row.first_at) + "," + format_rfc3339(e.row.last_at) + "\r\n";
  }
  return out;
}

host::Response csv_response(std::string body, const std::string& filename) {
  host::Response r;
  r.status = 200;
  r.content_type = "text/csv; charset=utf-8";
  r.body = std::move(body);
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  r.headers.emplace_back("Cache-Control", "no-store");  // patient information: not for caches
  return r;
}

json::array json_rows(const std::vector<DisclosureEntry>& rows) {
  json::array out;
  for (const auto& e : rows)
    out.push_back(json::object{{"date", format_date(e.row.day)},
                               {"record_type", e.row.record_type},
                               {"record_id", e.row.record_id},
                               {"key", json::object{{"id", e.row.key_id}, {"label", e.key_label}, {"preview", e.key_preview}}},
                               {"access", access_name(e.row.access)},
                               {"requests", e.row.requests},
                               {"first_at", format_rfc3339(e.row.first_at)},
                               {"last_at", format_rfc3339(e.row.last_at)}});
  return out;
}

host::Response key_disclosures(PluginContext& ctx, const host::RouteRequest& req) {
  const KeyId id = key_id_param(req);
  const Range range = range_of(ctx, req);
  if (!ctx.keys.get(req.user.clinic_id, id))
    throw HttpError{404, "key_not_found", "No API key with this id in your clinic."};
  ctx.disclosures.flush();  // include what was reported but not yet written
  const auto rows = ctx.disclosure_store.for_key(id, range.from, range.to, kMaxRows + 1);
  check_size(rows);
  const std::string span = format_date(range.from) + "-to-" + format_date(range.to);
  if (range.csv) return csv_response(csv(rows), "api-key-" + std::to_string(id) + "-disclosures-" + span + ".csv");
  std::set<std::int64_t> patients;
  for (const auto& e : rows)
    if (e.row.record_type == kPatient) patients.insert(e.row.record_id);
  return json_response(200, json::object{{"key_id", id},
                                         {"from", format_date(range.from)},
                                         {"to", format_date(range.to)},
                                         {"patients", patients.size()},
                                         {"records", json_rows(rows)}});
}

host::Response patient_disclosures(PluginContext& ctx, const host::RouteRequest& req) {
  const auto id = positive_id_param(req, "id");
  if (!id) throw HttpError{404, "patient_not_found", "No patient with this id."};
  const std::int64_t patient = *id;
  const Range range = range_of(ctx, req);
  ctx.disclosures.flush();
  const auto rows = ctx.disclosure_store.for_record(req.user.clinic_id, kPatient, patient, range.from, range.to,
                                                    kMaxRows + 1);
  check_size(rows);
  const std::string span = format_date(range.from) + "-to-" + format_date(range.to);
  if (range.csv)
    return csv_response(csv(rows), "patient-" + std::to_string(patient) + "-disclosures-" + span + ".csv");
  std::set<std::int64_t> keys;
  for (const auto& e : rows) keys.insert(e.row.key_id);
  return json_response(200, json::object{{"patient_id", patient},
                                         {"from", format_date(range.from)},
                                         {"to", format_date(range.to)},
                                         {"keys", keys.size()},
                                         {"records", json_rows(rows)}});
}

}  // namespace

std::string csv_field(const std::string& text) {
  std::string v = text;
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r'))
    v.insert(0, "'");
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::vector<host::RouteSpec> make_disclosure_routes(std::shared_ptr<PluginContext> ctx) {
  const std::string perm = kManagePermission;
  return {
      {"GET", "keys/{id}/disclosures", perm, "Which patients an API key's requests read or changed",
       guarded(ctx, &key_disclosures)},
      {"GET", "patients/{id}/disclosures", perm, "Which API keys read or changed a patient's records",
       guarded(ctx, &patient_disclosures)},
  };
}

}  // namespace mdp::api_access
