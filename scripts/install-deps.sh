#!/usr/bin/env bash
# Installs what this project needs from Debian's archive, and only what is missing.
# Idempotent: a second run on a ready machine does nothing but check. Needs root (or sudo).
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev   # never unversioned libboost-*: they pull 1.74
  libsoci-dev libbotan-2-dev libsqlite3-dev libpq-dev libssl-dev
  zlib1g-dev                                                    # the devhost gzips pages
  prometheus-cpp-dev                                            # the devhost's GET /metrics
  libhowardhinnant-date-dev tzdata                              # clinic time zones (date/tz.h reads /usr/share/zoneinfo)
  clang binutils dpkg-dev                                       # other-compiler test plugin, nm/readelf, cpack's dpkg-shlibdeps
  postgresql                                                    # tests start a throwaway cluster
  libgtest-dev libgmock-dev libbenchmark-dev wrk
  clang libclang-rt-14-dev                                      # libFuzzer targets (fuzz preset)
  chromium nodejs npm                                           # browser tests (playwright-core drives chromium)
  curl jq python3                                               # the integrator's guide examples run in the tests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A node/npm found on PATH (e.g. a newer one the machine ships) is as good as Debian's.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
  --no-install-recommends "${missing[@]}" >/dev/null
