#!/usr/bin/env bash
# Command 2 of the README: install what is missing, build, and run every test: unit, SQLite and
# PostgreSQL (a throwaway server started here), devhost over HTTP, headless Chromium, the
# installed SDK with examples/minimal-host, the plugin loader again under ASan + UBSan, and a
# short run of every fuzzer (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says how long it took, so a slow CI run shows where its time went.
step_start=$SECONDS
step_done() { echo "== test.sh: $1 took $((SECONDS - step_start)) s (total $SECONDS s)"; step_start=$SECONDS; }
scripts/install-deps.sh
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/manifest && npm ci --no-audit --no-fund --loglevel=error)
(cd integrations/secretlint && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/integrating && npm ci --no-audit --no-fund --loglevel=error)
# Redocly's CLI (the OpenAPI lint) is ~250 packages: installed while the build uses the CPUs.
mkdir -p build
(cd tests/openapi && npm ci --no-audit --no-fund --loglevel=error) > build/openapi-npm.log 2>&1 &
openapi_npm=$!
step_done "packages"

cmake --preset dev >/dev/null
cmake --build --preset dev
wait "$openapi_npm" || { cat build/openapi-npm.log; echo "npm ci in tests/openapi failed"; exit 1; }
step_done "dev build (and tests/openapi packages)"
# MDP_REQUIRE_PG: a PostgreSQL suite fails, rather than skips, if the server is missing.
MDP_REQUIRE_PG=1 scripts/with-postgres.sh ctest --preset dev
step_done "dev tests"
# The installed SDK, used the way another team's host uses it (examples/minimal-host).
scripts/sdk-check.sh build/dev
step_done "SDK check"

cmake --preset asan >/dev/null
cmake --build --preset asan --target sanitize_suites  # only what `ctest -L sanitize` runs
step_done "ASan build"
MDP_REQUIRE_PG=1 scripts/with-postgres.sh ctest --preset asan -L sanitize
step_done "ASan tests"

# Every parser that sees outside input, fuzzed for a short while (10 s each here, to keep the
# whole run well inside CI's time; `scripts/fuzz.sh` alone fuzzes 20 s each, MDP_FUZZ_SECONDS more).
MDP_FUZZ_SECONDS="${MDP_FUZZ_SECONDS:-10}" scripts/fuzz.sh
step_done "fuzz build and runs"
