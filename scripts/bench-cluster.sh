#!/usr/bin/env bash
# Several devhosts on one PostgreSQL (bench/cluster_bench.cpp); the figures go to BENCHMARKS.md.
#
#   scripts/bench-cluster.sh                 configure + build the dev preset, then run both
#   MDP_BENCH_BUILD_DIR=build/x scripts/bench-cluster.sh   use an already configured build tree
#
# 1. revoke: a revoke on host A until the first 401 revoked_api_key on hosts B and C (which had
#    the key cached), MDP_BENCH_REVOKE_TRIALS trials (default 100).
# 2. plan: the same for a plan change (the api_access addon cancelled on A until B and C answer
#    403, bought again until they answer 200), MDP_BENCH_PLAN_TRIALS trials (default 50).
# 3. recovery: PostgreSQL stopped for MDP_BENCH_OUTAGE_MS (default 2000) and started again, from
#    `pg_ctl -w start` returning to the first 200 from login, an admin route, the API Keys page
#    and the public API on each of three hosts, MDP_BENCH_RECOVERY_TRIALS trials (default 5).
# Each part starts its own throwaway PostgreSQL (socket only, in a temp folder, removed after).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${MDP_BENCH_BUILD_DIR:-}"
if [[ -z "$BUILD_DIR" ]]; then
  cmake --preset dev -DMDP_BUILD_BENCHMARKS=ON >/dev/null
  BUILD_DIR=build/dev
fi
cmake --build "$BUILD_DIR" --target cluster_bench mdp-devhost mdp_api_access

echo "== machine"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . || echo ' (with local changes)')"
echo "nproc: $(nproc)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "postgresql: $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
echo "build: $BUILD_DIR ($(grep -m1 CMAKE_BUILD_TYPE: "$BUILD_DIR/CMakeCache.txt" | cut -d= -f2))"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
echo "== revoke-to-refused on another process"
"$BUILD_DIR/bin/cluster_bench" revoke "${MDP_BENCH_REVOKE_TRIALS:-100}" || status=1
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== plan change to refused / accepted on another process"
"$BUILD_DIR/bin/cluster_bench" plan "${MDP_BENCH_PLAN_TRIALS:-50}" || status=1
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== recovery after a PostgreSQL restart"
"$BUILD_DIR/bin/cluster_bench" recovery "${MDP_BENCH_RECOVERY_TRIALS:-5}" "${MDP_BENCH_OUTAGE_MS:-2000}" || status=1
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
