#!/usr/bin/env bash
# Revokes an API key that leaked (pushed to a repository, pasted in a chat or a ticket), at
# once and without logging in: the practice's server revokes any live key it is sent.
#
# bash, curl, jq.
#   MDP_API_KEY   the leaked key
#   MDP_API_BASE  the practice's server (default http://127.0.0.1:8080)
#   LEAK_URL      where it was found (optional: the clinic's admins see it)
# Prints the answer: revoked (it was live, it is revoked now), not_active (already revoked or
# expired) or invalid (not a key of this server).
set -euo pipefail
base=${MDP_API_BASE:-http://127.0.0.1:8080}
: "${MDP_API_KEY:?Set MDP_API_KEY to the leaked key.}"

# jq reads the key from the environment and curl the report from standard input (-d @-): the key
# never shows in the process list.
jq -n '[{token: env.MDP_API_KEY, source: "self-report"}
        + (if (env.LEAK_URL // "") == "" then {} else {url: env.LEAK_URL} end)]' |
  curl -sS --fail-with-body --max-time 30 -H 'Content-Type: application/json' -d @- \
    "${base%/}/plugins/api-access/leaked-keys" |
  jq -r '.results[0].status'
