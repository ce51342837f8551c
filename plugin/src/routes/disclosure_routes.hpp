// Disclosure accounting routes, mounted by the host at /plugins/api-access/, needing the
// "api_keys.manage" permission: which patients a key's requests read or changed, and which keys
// read or changed a patient, over a date range, as JSON or as a CSV download.
//
//   GET keys/{id}/disclosures?from=&to=&format=     per key: every (day, patient, access)
//   GET patients/{id}/disclosures?from=&to=&format= per patient: every (day, key, access), the
//                                                   clinic's keys only
//
// from, to: UTC days "YYYY-MM-DD", inclusive (default: the last 30 days ending today; at most
// the retention, disclosure_retention_days, apart). format: json (default) or csv. JSON rows:
// {"date","record_type","record_id","key":{"id","label","preview"},"access","requests",
// "first_at","last_at"}. CSV: the same columns, one header line, RFC 4180 quoting, served as
// text/csv with Content-Disposition: attachment. Both first write what is counted in memory, so
// an export includes every request answered before it. Errors: invalid_range, invalid_format,
// too_many_records (400), key_not_found, patient_not_found (404), database_unavailable (503).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mdp/host/http.hpp"

namespace mdp::api_access {

struct PluginContext;

std::vector<host::RouteSpec> make_disclosure_routes(std::shared_ptr<PluginContext> ctx);

// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, and prefixed
// with ' when it starts like a spreadsheet formula (= + - @ tab CR). Exposed for tests.
std::string csv_field(const std::string& text);

}  // namespace mdp::api_access
