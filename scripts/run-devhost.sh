#!/usr/bin/env bash
# Command 1 of the README: install what is missing, build, and start the devhost on SQLite.
# Extra arguments go to mdp-devhost (e.g. --listen 127.0.0.1:9090). The e-mails it would send
# (notifications to clinic admins) are written to data/outbox/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev --target mdp-devhost mdp_api_access
exec build/dev/bin/mdp-devhost --outbox data/outbox "$@"
