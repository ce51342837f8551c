#!/usr/bin/env bash
# Builds the libFuzzer targets (the fuzz preset: clang, ASan + UBSan) and runs each: first every
# input in fuzz/<target>/regressions/ (what earlier runs found; each must now pass), then
# MDP_FUZZ_SECONDS (default 20) of fuzzing from the seed corpus fuzz/<target>/corpus/. New
# corpus entries go to a temp folder, not into the repository. A crash fails the script and
# leaves its input in $MDP_FUZZ_OUT (printed): fix the bug, then add the input to
# fuzz/<target>/regressions/.
#
#   scripts/fuzz.sh                    all targets
#   scripts/fuzz.sh fuzz_time ...      only these
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH="${MDP_FUZZ_SECONDS:-20}"
OUT="${MDP_FUZZ_OUT:-$(mktemp -d /tmp/mdp-fuzz.XXXXXX)}"
mkdir -p "$OUT"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(fuzz_time fuzz_key_format fuzz_manifest fuzz_render fuzz_request_hook fuzz_admin_routes fuzz_devhost_request)
fi
failed=()
for t in "${targets[@]}"; do
  bin="build/fuzz/bin/$t"
  regressions=(fuzz/"$t"/regressions/*)
  if [[ -e "${regressions[0]}" ]]; then
    if ! "$bin" -runs=1 "${regressions[@]}" >"$OUT/$t-regressions.log" 2>&1; then
      echo "$t: a regression input fails again; see $OUT/$t-regressions.log"
      failed+=("$t")
      continue
    fi
  fi
  mkdir -p "$OUT/$t-corpus"
  if "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
       -print_final_stats=1 -artifact_prefix="$OUT/$t-" "$OUT/$t-corpus" "fuzz/$t/corpus" \
       >"$OUT/$t.log" 2>&1; then
    echo "$t: ${SECONDS_EACH} s, $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/$t.log" | awk '{print $2}') runs," \
         "$(ls -1 "${regressions[@]}" 2>/dev/null | grep -vc '\*' || true) regression inputs, nothing found"
  else
    echo "$t: FOUND a crash; input and log in $OUT ($t-crash-* / $t.log)"
    failed+=("$t")
  fi
done
[[ ${#failed[@]} -eq 0 ]] || { echo "fuzz: failures in ${failed[*]}"; exit 1; }
