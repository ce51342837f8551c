#!/usr/bin/env bash
# Legitimate API throughput under floods, in one interleaved run; the figures go to BENCHMARKS.md.
#
#   scripts/bench-floods.sh                          configure + build the dev preset, then run
#   MDP_BENCH_BUILD_DIR=build/dev scripts/bench-floods.sh   use an already built tree
#
# One devhost (pinned to CPU 0) on SQLite, or on a throwaway PostgreSQL with MDP_BENCH_DB=postgresql.
# The legitimate client is wrk on GET /api/v1/ping with a valid key (through the API hook). Each
# round measures it in every condition, in turn:
#   alone      nothing else
#   notfound   yardstick: a flood of GET /no/such/page (404, no authentication) on 8 connections
#   wrongpw    attack: a flood of POST /login with a wrong password on 8 connections
#   spread     attack, harder: the same from a different loopback address and for a different
#              e-mail on every request (bench/login_flood.py, python3), so no throttle ever
#              triggers and only the bounded login pool stands between the flood and the API
#   malformed  yardstick: a flood of GET /api/v1/ping with malformed keys (refused before any
#              hashing or lookup) on 8 connections
#   forged     attack: the same flood with keys that have a valid checksum but exist nowhere
#              (bench/forge_keys: 200,000 distinct keys, so every one is new to the plugin)
# Every flood runs at full speed (wrk on CPU 1, like the legitimate client), so each costs CPU; a
# yardstick says what any full-speed flood costs on this machine, and the target is that the
# attack costs no more: legitimate throughput under wrongpw >= 80% of that under notfound, and
# under forged >= 80% of that under malformed. MDP_BENCH_CONDITIONS picks a subset (default all).
# Every flood starts 1 s before the legitimate wrk and ends after it. Every flood but spread comes
# from 127.0.0.1, the legitimate client's address too.
#
# Options (environment): MDP_BENCH_OUT (folder for raw output, default a temp dir, kept),
# MDP_BENCH_ROUNDS (default 3), MDP_BENCH_SECONDS (legitimate wrk duration, default 8),
# MDP_WRK_ARGS (legitimate wrk, default "-t1 -c16").
#
# The API key is never printed: it lives in a shell variable and in wrk's environment only.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${MDP_BENCH_DB:-sqlite}" == postgresql && -z "${MDP_TEST_PG:-}" ]]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi

BUILD_DIR="${MDP_BENCH_BUILD_DIR:-}"
if [[ -z "$BUILD_DIR" ]]; then
  cmake --preset dev >/dev/null
  BUILD_DIR=build/dev
fi
cmake --build "$BUILD_DIR" --target mdp-devhost mdp_api_access forge_keys
command -v wrk >/dev/null || { echo "wrk is not installed (Debian package wrk)" >&2; exit 1; }

OUT="${MDP_BENCH_OUT:-$(mktemp -d /tmp/mdp-floods.XXXXXX)}"
mkdir -p "$OUT"
ROUNDS="${MDP_BENCH_ROUNDS:-3}"
CONDITIONS="${MDP_BENCH_CONDITIONS:-alone notfound wrongpw spread malformed forged}"
SECS="${MDP_BENCH_SECONDS:-8}"
WRK_ARGS="${MDP_WRK_ARGS:--t1 -c16}"
echo "== machine"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  nproc: $(nproc)  build: $BUILD_DIR ($(grep -m1 CMAKE_BUILD_TYPE: "$BUILD_DIR/CMakeCache.txt" | cut -d= -f2))"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

WORK="$(mktemp -d /tmp/mdp-floods-work.XXXXXX)"
DEVHOST_PID=""
cleanup() {
  if [[ -n "$DEVHOST_PID" ]]; then kill "$DEVHOST_PID" 2>/dev/null || true; wait "$DEVHOST_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

DATABASE="sqlite:$WORK/bench.db"
[[ "${MDP_BENCH_DB:-sqlite}" == postgresql ]] && DATABASE="$MDP_TEST_PG"
echo "database: ${MDP_BENCH_DB:-sqlite}"
taskset -c 0 "$BUILD_DIR/bin/mdp-devhost" --listen 127.0.0.1:0 --database "$DATABASE" \
  --plugins "$BUILD_DIR/plugins" >"$WORK/devhost.out" 2>"$OUT/devhost.log" &
DEVHOST_PID=$!
PORT=""
for _ in $(seq 1 300); do
  PORT="$(sed -n 's|^mdp-devhost listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$WORK/devhost.out" 2>/dev/null || true)"
  [[ -n "$PORT" ]] && break
  kill -0 "$DEVHOST_PID" 2>/dev/null || { echo "mdp-devhost exited; see $OUT/devhost.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$PORT" ]] || { echo "mdp-devhost did not start" >&2; exit 1; }
BASE="http://127.0.0.1:$PORT"

CSRF="$(curl -sf -c "$WORK/cookies" -H 'Content-Type: application/json' \
  -d '{"email":"owner@brightsmiles.test","password":"devpass"}' "$BASE/login" | jq -r .csrf_token)"
(umask 077; curl -sf -b "$WORK/cookies" -H 'Content-Type: application/json' -H "X-CSRF-Token: $CSRF" \
  -d '{"label":"bench","scopes":["read"]}' -o "$WORK/key.json" "$BASE/plugins/api-access/keys")
BENCH_KEY="$(jq -r .secret "$WORK/key.json")"  # not exported: given to wrk alone, below
rm -f "$WORK/key.json"

cat >"$WORK/legit.lua" <<'LUA'
wrk.headers["Authorization"] = "Bearer " .. os.getenv("MDP_BENCH_KEY")
LUA
cat >"$WORK/wrongpw.lua" <<'LUA'
-- A password guesser: every request a different wrong password for one real account.
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/login", {["Content-Type"] = "application/json"},
    '{"email":"owner@brightsmiles.test","password":"guess-' .. n .. '"}')
end
LUA
cat >"$WORK/notfound.lua" <<'LUA'
wrk.path = "/no/such/page"
LUA
# The key floods read their keys from a file, one per request, in turn.
"$BUILD_DIR/bin/forge_keys" 200000 >"$WORK/forged.keys"
# Malformed: the same length and prefix, with characters outside the base32 alphabet.
sed 's/[A-H]/1/g' "$WORK/forged.keys" >"$WORK/malformed.keys"
for kind in forged malformed; do
  cat >"$WORK/$kind.lua" <<LUA
local keys, n = {}, 0
for line in io.lines("$WORK/$kind.keys") do keys[#keys + 1] = line end
request = function()
  n = n % #keys + 1
  return wrk.format("GET", "/api/v1/ping", {["Authorization"] = "Bearer " .. keys[n]})
end
LUA
done

code="$(curl -s -o /dev/null -w '%{http_code}' -H @- "$BASE/api/v1/ping" <<<"Authorization: Bearer $BENCH_KEY")"
[[ "$code" == 200 ]] || { echo "GET /api/v1/ping answered $code" >&2; exit 1; }
echo "legitimate: wrk $WRK_ARGS -d${SECS}s GET /api/v1/ping (CPU 1); floods: wrk -t1 -c8 (CPU 1); mdp-devhost on CPU 0"
MDP_BENCH_KEY="$BENCH_KEY" taskset -c 1 wrk -t1 -c16 -d2s -s "$WORK/legit.lua" "$BASE/api/v1/ping" >/dev/null  # warm-up

rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
non2xx() { awk '/Non-2xx/ {print $NF}' "$1"; }
if [[ " $CONDITIONS " == *" spread "* ]] && ! command -v python3 >/dev/null; then
  echo "python3 not found: the spread flood is skipped"; CONDITIONS="${CONDITIONS/spread/}"
fi
declare -A SUM
for cond in $CONDITIONS; do SUM[$cond]=0; done
for round in $(seq 1 "$ROUNDS"); do
  for cond in $CONDITIONS; do
    FLOOD_PID=""
    if [[ "$cond" == spread ]]; then
      taskset -c 1 python3 bench/login_flood.py "$PORT" $((SECS + 2)) 8 >"$WORK/flood.txt" &
      FLOOD_PID=$!
      sleep 1
    elif [[ "$cond" != alone ]]; then
      taskset -c 1 wrk -t1 -c8 -d$((SECS + 2))s -s "$WORK/$cond.lua" "$BASE" >"$WORK/flood.txt" &
      FLOOD_PID=$!
      sleep 1
    fi
    # shellcheck disable=SC2086
    MDP_BENCH_KEY="$BENCH_KEY" taskset -c 1 wrk $WRK_ARGS -d${SECS}s -s "$WORK/legit.lua" "$BASE/api/v1/ping" >"$WORK/legit.txt"
    flood_note=""
    if [[ -n "$FLOOD_PID" ]]; then
      wait "$FLOOD_PID"
      if [[ "$cond" == spread ]]; then flood_note=", flood $(cat "$WORK/flood.txt")"
      else flood_note=", flood $(rps "$WORK/flood.txt") req/s (non-2xx $(non2xx "$WORK/flood.txt"))"; fi
      cp "$WORK/flood.txt" "$OUT/round$round-$cond-flood.txt"
    fi
    cp "$WORK/legit.txt" "$OUT/round$round-$cond-legit.txt"
    r="$(rps "$WORK/legit.txt")"
    SUM[$cond]="$(awk -v a="${SUM[$cond]}" -v b="$r" 'BEGIN { print a + b }')"
    echo "round $round $cond: legitimate $r req/s (non-2xx $(non2xx "$WORK/legit.txt" || true))$flood_note; load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
unset BENCH_KEY
# What the login flood got: the throttle's answers, from the devhost's point of view.
echo "after the floods, a login from this address answers: $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"email":"owner@brightsmiles.test","password":"devpass"}' "$BASE/login")"
printf 'mean legitimate req/s:'
for cond in $CONDITIONS; do awk -v c="$cond" -v s="${SUM[$cond]}" -v k="$ROUNDS" 'BEGIN { printf " %s %.0f", c, s/k }'; done
echo
ratio() {  # attack yardstick label
  [[ -n "${SUM[$1]:-}" && -n "${SUM[$2]:-}" ]] || return 0
  awk -v a="${SUM[$1]}" -v y="${SUM[$2]}" -v l="$3" 'BEGIN {
    printf "ratio %s: %.2f (target >= 0.80: %s)\n", l, a/y, (a/y >= 0.8 ? "met" : "NOT met") }'
}
ratio wrongpw notfound "wrong-password / 404 flood"
ratio forged malformed "forged keys / malformed keys"
ratio spread notfound "spread wrong-password (no throttle applies) / 404 flood"
echo "raw wrk output and the devhost log: $OUT"
