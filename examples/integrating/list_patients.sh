#!/usr/bin/env bash
# Lists a clinic's patients and appointments through the MyDentalPractice public API.
#
# bash, curl 7.84 or later, jq.
#   MDP_API_KEY   the API key, from your secret store (never in code, a committed file or a URL)
#   MDP_API_BASE  the practice's server, e.g. https://practice.example (default http://127.0.0.1:8080)
# Exit status: 0 done; 1 refused, a person must act (the message says what); 2 try again later.
set -euo pipefail
base=${MDP_API_BASE:-http://127.0.0.1:8080}
base=${base%/}
max_tries=4 # the first request and up to three retries after a 429 or a 503
max_wait=60 # seconds; a longer Retry-After means "run again later"
if [ -z "${MDP_API_KEY:-}" ]; then
  echo "Set MDP_API_KEY to the API key." >&2
  exit 1
fi

# The refusals of the public API (docs/errors.md). Any other code is judged by its status.
known_codes=(missing_api_key invalid_api_key api_key_in_query_not_allowed revoked_api_key
  expired_api_key api_access_not_enabled insufficient_scope ip_not_allowed
  too_many_failed_attempts rate_limited service_unavailable)
is_known() {
  local c
  for c in "${known_codes[@]}"; do [[ $c == "$1" ]] && return 0; done
  return 1
}

# api_get PATH: sets $body to the JSON answer and $ratelimit to its RateLimit field, or exits
# with 1 or 2 after branching on the error code. The key goes to curl on standard input (-H @-),
# so it never shows in the process list; -w adds a last line: status|Retry-After|RateLimit.
api_get() {
  local attempt out status retry_after code
  for ((attempt = 1; attempt <= max_tries; attempt++)); do
    if ! out=$(printf 'Authorization: Bearer %s\nAccept: application/json\n' "$MDP_API_KEY" |
      curl -sS --max-time 30 -H @- -w '\n%{http_code}|%header{retry-after}|%header{ratelimit}' "$base$1"); then
      echo "try again later: cannot reach $base" >&2
      exit 2
    fi
    body=${out%$'\n'*}
    IFS='|' read -r status retry_after ratelimit <<<"${out##*$'\n'}"
    ((status < 300)) && return 0
    code=$(jq -r '.error.code? // ""' <<<"$body" 2>/dev/null || true)
    # Decide on the code; fall back on the status only for a code this program does not know.
    if [[ $code == rate_limited || $code == service_unavailable ]] ||
      { ! is_known "$code" && [[ $status =~ ^(429|502|503|504)$ ]]; }; then
      retry_after=${retry_after:-1}
      if ((attempt == max_tries || retry_after > max_wait)); then
        echo "try again later: ${code:-$status}: asked to wait $retry_after s" >&2
        exit 2
      fi
      echo "${code:-$status}: retrying in $retry_after s" >&2
      sleep "$retry_after"
      continue
    fi
    jq -r --arg base "$base" --arg status "$status" '"refused: HTTP \($status) \(.error.code): \(.error.message)"
      + (if .error.code == "insufficient_scope" then " (the key needs the scope '"'"'\(.error.scope)'"'"')" else "" end)
      + (if .error.doc then " See \($base)\(.error.doc)" else "" end)' <<<"$body" >&2 2>/dev/null ||
      echo "refused: HTTP $status" >&2
    exit 1
  done
}

api_get /api/v1/patients
patients=$body
api_get /api/v1/appointments
jq -r '"clinic: \(.clinic.name)", "patients: \(.patients | length)",
  (.patients[] | "  #\(.id) \(.first_name) \(.last_name), born \(.birth_date)")' <<<"$patients"
jq -r '"appointments: \(.appointments | length)",
  (.appointments[] | "  #\(.id) \(.starts_at) patient #\(.patient_id), \(.duration_minutes) min: \(.reason)")' <<<"$body"
# RateLimit: "per-key";r=<requests left>;t=<seconds until the window resets>
if [[ $ratelimit =~ \;r=([0-9]+)\;t=([0-9]+) ]]; then
  echo "requests left: ${BASH_REMATCH[1]} for ${BASH_REMATCH[2]} s"
fi
