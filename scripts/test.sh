#!/usr/bin/env bash
# Command 2 of the README: install what is missing, build, and run every test: unit, SQLite and
# PostgreSQL (a throwaway server started here), devhost over HTTP, headless Chromium, the
# installed SDK with examples/minimal-host, the plugin loader again under ASan + UBSan, and a
# short run of every fuzzer (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/manifest && npm ci --no-audit --no-fund --loglevel=error)
(cd integrations/secretlint && npm ci --no-audit --no-fund --loglevel=error)

cmake --preset dev >/dev/null
cmake --build --preset dev
# MDP_REQUIRE_PG: a PostgreSQL suite fails, rather than skips, if the server is missing.
MDP_REQUIRE_PG=1 scripts/with-postgres.sh ctest --preset dev
# The installed SDK, used the way another team's host uses it (examples/minimal-host).
scripts/sdk-check.sh build/dev

cmake --preset asan >/dev/null
cmake --build --preset asan
MDP_REQUIRE_PG=1 scripts/with-postgres.sh ctest --preset asan -L sanitize

# Every parser that sees outside input, fuzzed for a short while (20 s each).
scripts/fuzz.sh
