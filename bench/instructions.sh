#!/usr/bin/env bash
# What the API hook costs per request, in CPU instructions counted by callgrind: the same N
# keep-alive requests through the devhost to GET /api/v1/ping (hook) and to GET /demo/ping (the
# same code with the hook step skipped), each on a copy of one database, minus a run that serves
# no request (start-up, plugin load, shutdown). Instruction counts do not depend on what else the
# machine is doing, which wrk's requests per second on this 2-core VM do (BENCHMARKS.md).
#
#   bench/instructions.sh BUILD_DIR [N]        (N requests per endpoint, default 3000)
#
# The key is created by a normal devhost run, kept in a shell variable only, and handed to curl
# through a private header file deleted at exit.
set -euo pipefail
BUILD_DIR="${1:?usage: bench/instructions.sh BUILD_DIR [N]}"
N="${2:-3000}"
DEVHOST="$BUILD_DIR/bin/mdp-devhost"
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

WORK="$(mktemp -d /tmp/mdp-instr.XXXXXX)"
PID=""
cleanup() {
  if [[ -n "$PID" ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# start CMD... : runs the devhost (possibly under valgrind), sets PID and BASE.
start() {
  : >"$WORK/out"
  "$@" >"$WORK/out" 2>>"$WORK/log" &
  PID=$!
  local port=""
  for _ in $(seq 1 600); do
    port="$(sed -n 's|^mdp-devhost listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$WORK/out")"
    [[ -n "$port" ]] && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/log" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n "$port" ]] || { echo "mdp-devhost did not start" >&2; exit 1; }
  BASE="http://127.0.0.1:$port"
}
stop() { kill -TERM "$PID"; wait "$PID" || true; PID=""; }

# 1. A database with the demo data and one read key (a plain run: Argon2 login is slow under valgrind).
start "$DEVHOST" --listen 127.0.0.1:0 --database "sqlite:$WORK/seed.db" --plugins "$BUILD_DIR/plugins"
CSRF="$(curl -sf -c "$WORK/jar" -H 'Content-Type: application/json' \
  -d '{"email":"owner@brightsmiles.test","password":"devpass"}' "$BASE/login" | jq -r .csrf_token)"
(umask 077
 curl -sf -b "$WORK/jar" -H 'Content-Type: application/json' -H "X-CSRF-Token: $CSRF" \
   -d '{"label":"instructions bench","scopes":["read"]}' "$BASE/plugins/api-access/keys" |
   jq -r '"Authorization: Bearer " + .secret' >"$WORK/headers")
stop

# 2. Three runs under callgrind on copies of that database: no request, N to each endpoint.
total_ir() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; }
run() {  # run NAME PATH|"" -> prints total instructions
  local name=$1 path=$2
  cp "$WORK/seed.db" "$WORK/$name.db"
  start valgrind --tool=callgrind --callgrind-out-file="$WORK/$name.cg" \
    "$DEVHOST" --listen 127.0.0.1:0 --database "sqlite:$WORK/$name.db" --plugins "$BUILD_DIR/plugins"
  if [[ -n "$path" ]]; then
    # One connection, N requests (curl reuses it for every URL); every answer must be 200.
    for _ in $(seq 1 "$N"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$BASE$path"; done >"$WORK/urls"
    local codes
    codes="$(curl -s -H @"$WORK/headers" -w '%{http_code}\n' -K "$WORK/urls" | sort | uniq -c)"
    [[ "$codes" =~ ^\ *$N\ 200$ ]] || { echo "$path: not all 200: $codes" >&2; exit 1; }
  fi
  stop
  [[ -n "${MDP_INSTR_KEEP:-}" ]] && cp "$WORK/$name.cg" "$MDP_INSTR_KEEP/"
  total_ir "$WORK/$name.cg"
}
base=$(run idle "")
demo=$(run demo /demo/ping)
api=$(run api /api/v1/ping)
awk -v b="$base" -v d="$demo" -v a="$api" -v n="$N" 'BEGIN {
  pd = (d - b) / n; pa = (a - b) / n
  printf "callgrind, %d requests per endpoint, one keep-alive connection\n", n
  printf "instructions: idle run %d, /demo/ping run %d, /api/v1/ping run %d\n", b, d, a
  printf "per request: /demo/ping %.0f, /api/v1/ping %.0f; the hook adds %.0f instructions (%.1f%%)\n", pd, pa, pa - pd, (pa - pd) / pd * 100
}'
