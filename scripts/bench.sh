#!/usr/bin/env bash
# The request hook's benchmarks in one command; the figures go to BENCHMARKS.md.
#
#   scripts/bench.sh                       configure + build the dev preset (build/dev), then run
#   MDP_BENCH_BUILD_DIR=build/h4 scripts/bench.sh   use an already configured build tree instead
#
# 1. bench/hook_bench (Google Benchmark): the floor, the hook deciding, the cache miss beside a
#    bare SQLite lookup, the usage flush, the hook under threads. Each benchmark 5 repetitions,
#    randomly interleaved; the console shows mean/median/stddev/cv, every repetition goes to
#    $OUT/hook_bench.json.
# 2. wrk through the devhost: GET /api/v1/ping (through the hook, scope read) versus GET /demo/ping
#    (the same body, no hook), the same wrk script (same headers) for both, alternating, twice
#    each. The devhost is pinned to CPU 0 and wrk to CPU 1 (the machine has 2).
#
# 3. bench/instructions.sh: the same two endpoints under callgrind, instructions per request.
#
# Options (environment): MDP_BENCH_OUT (folder for the JSON and logs, default a temp dir, kept),
# MDP_BENCH_SKIP_WRK=1, MDP_BENCH_SKIP_MICRO=1, MDP_BENCH_SKIP_INSTR=1, MDP_WRK_ARGS (default "-t2 -c32 -d10s"),
# MDP_BENCH_KEYS (keys in the SQLite file, default 100000), MDP_BENCH_RT=1 (hook_bench under
# chrt -r 10), MDP_BENCH_PERF=1 (one more wrk run under perf: the hook's share of the devhost's
# CPU). Extra arguments go to hook_bench
# (e.g. --benchmark_filter=Hook).
#
# The API key created for the wrk runs is never printed: it lives in a shell variable and in the
# environment of wrk only (read by the Lua script), and the database holding it is deleted.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${MDP_BENCH_BUILD_DIR:-}"
if [[ -z "$BUILD_DIR" ]]; then
  cmake --preset dev -DMDP_BUILD_BENCHMARKS=ON >/dev/null
  BUILD_DIR=build/dev
fi
cmake --build "$BUILD_DIR" --target hook_bench mdp-devhost mdp_api_access

OUT="${MDP_BENCH_OUT:-$(mktemp -d /tmp/mdp-bench.XXXXXX)}"
mkdir -p "$OUT"
echo "== machine"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nproc: $(nproc)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "sha_ni: $(grep -m1 -o sha_ni /proc/cpuinfo || echo absent)"
echo "build: $BUILD_DIR ($(grep -m1 CMAKE_BUILD_TYPE: "$BUILD_DIR/CMakeCache.txt" | cut -d= -f2))"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ "${MDP_BENCH_SKIP_MICRO:-0}" != 1 ]]; then
  echo "== hook_bench (Google Benchmark; Debian's libbenchmark is a DEBUG build of the library," \
       "which only affects the harness, not the code measured)"
  RT=()
  # MDP_BENCH_RT=1 (root): run hook_bench with round-robin real-time priority, so that on a machine
  # where other work keeps both cores busy the threads of (e) really run in parallel.
  [[ "${MDP_BENCH_RT:-0}" == 1 ]] && RT=(chrt -r 10)
  # 5 repetitions of 0.2 s each, randomly interleaved across benchmarks, so that a change in the
  # machine's load during the run spreads over all figures instead of skewing one ratio.
  "${RT[@]}" "$BUILD_DIR/bin/hook_bench" --benchmark_repetitions=5 --benchmark_min_time=0.2 \
    --benchmark_enable_random_interleaving=true --benchmark_display_aggregates_only=true \
    --benchmark_out="$OUT/hook_bench.json" --benchmark_out_format=json "$@"
  echo "load after hook_bench: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

[[ "${MDP_BENCH_SKIP_WRK:-0}" == 1 ]] && exit 0

echo "== wrk: /api/v1/ping (hook) vs /demo/ping (no hook)"
command -v wrk >/dev/null || { echo "wrk is not installed (Debian package wrk)" >&2; exit 1; }
WORK="$(mktemp -d /tmp/mdp-wrk.XXXXXX)"
DEVHOST_PID=""
cleanup() {
  if [[ -n "$DEVHOST_PID" ]]; then kill "$DEVHOST_PID" 2>/dev/null || true; wait "$DEVHOST_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

taskset -c 0 "$BUILD_DIR/bin/mdp-devhost" --listen 127.0.0.1:0 --database "sqlite:$WORK/bench.db" \
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
# The response holding the secret goes to a private file, read once, then deleted.
(umask 077; curl -sf -b "$WORK/cookies" -H 'Content-Type: application/json' -H "X-CSRF-Token: $CSRF" \
  -d '{"label":"bench","scopes":["read"]}' -o "$WORK/key.json" -w '%{http_code}' \
  "$BASE/plugins/api-access/keys" >"$WORK/key.status")
[[ "$(cat "$WORK/key.status")" == 201 ]] || { echo "key creation failed: HTTP $(cat "$WORK/key.status")" >&2; exit 1; }
BENCH_KEY="$(jq -r .secret "$WORK/key.json")"  # not exported: given to wrk alone, below
rm -f "$WORK/key.json"

cat >"$WORK/auth.lua" <<'LUA'
-- The same request headers for both endpoints; only the path differs.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("MDP_BENCH_KEY")
LUA
for path in /api/v1/ping /demo/ping; do
  code="$(curl -s -o /dev/null -w '%{http_code}' -H @- "$BASE$path" <<<"Authorization: Bearer $BENCH_KEY")"
  echo "check: GET $path -> HTTP $code"
  [[ "$code" == 200 ]] || { echo "GET $path did not answer 200" >&2; exit 1; }
done

WRK_ARGS="${MDP_WRK_ARGS:--t2 -c32 -d10s}"
echo "wrk $WRK_ARGS, wrk on CPU 1, mdp-devhost (4 server threads) on CPU 0; load: $(cut -d' ' -f1-3 /proc/loadavg)"
# Warm-up, not reported.
MDP_BENCH_KEY="$BENCH_KEY" taskset -c 1 wrk -t2 -c32 -d2s -s "$WORK/auth.lua" "$BASE/api/v1/ping" >/dev/null
MDP_BENCH_KEY="$BENCH_KEY" taskset -c 1 wrk -t2 -c32 -d2s -s "$WORK/auth.lua" "$BASE/demo/ping" >/dev/null
declare -a HOOK NOHOOK HOOK_CPU NOHOOK_CPU
devhost_cpu_ticks() { awk '{print $14 + $15}' "/proc/$DEVHOST_PID/stat"; }
for run in 1 2; do
  for path in /api/v1/ping /demo/ping; do
    cpu0="$(devhost_cpu_ticks)"
    # shellcheck disable=SC2086
    MDP_BENCH_KEY="$BENCH_KEY" taskset -c 1 wrk $WRK_ARGS -s "$WORK/auth.lua" "$BASE$path" >"$WORK/wrk.txt"
    cpu1="$(devhost_cpu_ticks)"
    rps="$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.txt")"
    total="$(awk '/ requests in / {print $1}' "$WORK/wrk.txt")"
    non2xx="$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt")"
    lat="$(awk '/^    Latency/ {print $2}' "$WORK/wrk.txt")"
    # The devhost's own CPU time (user + system, from /proc) per request served: independent of
    # whether wrk or the devhost is the bottleneck, and of other load on CPU 1.
    cpu_us="$(awk -v a="$cpu0" -v b="$cpu1" -v n="$total" -v hz="$(getconf CLK_TCK)" \
      'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / n }')"
    echo "run $run GET $path: $rps req/s ($total requests), avg latency $lat, non-2xx ${non2xx:-0}," \
         "devhost CPU $cpu_us us/request, load $(cut -d' ' -f1 /proc/loadavg)"
    cp "$WORK/wrk.txt" "$OUT/wrk-run$run-$(tr / _ <<<"$path").txt"
    if [[ "$path" == /api/v1/ping ]]; then HOOK+=("$rps"); HOOK_CPU+=("$cpu_us"); else NOHOOK+=("$rps"); NOHOOK_CPU+=("$cpu_us"); fi
  done
done
if [[ "${MDP_BENCH_PERF:-0}" == 1 ]] && command -v perf >/dev/null; then
  # Where the devhost's CPU goes on /api/v1/ping: cpu-clock samples with DWARF call graphs during
  # one more wrk run (not counted above), then the share of samples inside the hook's two calls.
  perf record -q -e cpu-clock -F 1000 --call-graph dwarf,16384 -p "$DEVHOST_PID" -o "$WORK/perf.data" \
    -- sleep 6 >/dev/null 2>&1 &
  PERF_PID=$!
  # shellcheck disable=SC2086
  MDP_BENCH_KEY="$BENCH_KEY" taskset -c 1 wrk -t2 -c32 -d6s -s "$WORK/auth.lua" "$BASE/api/v1/ping" >/dev/null
  wait "$PERF_PID" || true
  echo "perf (devhost, GET /api/v1/ping): share of CPU samples, inclusive of callees:"
  perf report -i "$WORK/perf.data" --children --sort symbol -g none 2>/dev/null |
    grep -E '(Impl::handle|Impl::public_api|Impl::serve_api|RequestHook::on_api_request|RequestHook::on_api_response|HasherPool::sha256|ApiRequestView::headers)( |$)' |
    sed -E 's/^ *([0-9.]+%) +[0-9.]+% +\[\.\] +(.*[^ ]) +- +- *$/  \1  \2/' || true
fi
unset BENCH_KEY
awk -v h="${HOOK[*]}" -v n="${NOHOOK[*]}" 'BEGIN {
  split(h, H, " "); split(n, N, " "); sh = 0; sn = 0
  for (i in H) sh += H[i]; for (i in N) sn += N[i]
  mh = sh / length(H); mn = sn / length(N)
  printf "mean with hook %.0f req/s, without %.0f req/s: the hook costs %.1f%% of throughput (target < 3%%)\n",
         mh, mn, 100 * (1 - mh / mn) }'
awk -v h="${HOOK_CPU[*]}" -v n="${NOHOOK_CPU[*]}" 'BEGIN {
  split(h, H, " "); split(n, N, " "); sh = 0; sn = 0
  for (i in H) sh += H[i]; for (i in N) sn += N[i]
  mh = sh / length(H); mn = sn / length(N)
  printf "mean devhost CPU per request: with hook %.1f us, without %.1f us (/api/v1/ping costs %.1f%% more CPU per request)\n",
         mh, mn, 100 * (mh / mn - 1) }'
echo "raw wrk output and logs: $OUT"

# 3. The same comparison in instructions (callgrind): repeatable, unlike requests per second on a
#    shared 2-core VM. MDP_BENCH_SKIP_INSTR=1 skips it.
if [[ "${MDP_BENCH_SKIP_INSTR:-0}" != 1 ]]; then
  echo "== instructions per request: /api/v1/ping (hook) vs /demo/ping (no hook)"
  bench/instructions.sh "$BUILD_DIR" 3000
fi
