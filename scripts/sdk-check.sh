#!/usr/bin/env bash
# The SDK as another team gets it: install the build into a temporary prefix, build
# examples/minimal-host out of tree against that prefix alone (find_package(MdpHostInterface)),
# and run its scenario on the installed plugin bundle. Needs a finished build (default
# build/dev); scripts/test.sh runs it after the tests. Then builds the .deb and .tar.gz packages
# with CPack and checks what they declare and hold.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/dev}
work=$(mktemp -d /tmp/mdp-sdk-check.XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
echo "installed into a temporary prefix:"
(cd "$work/prefix" && find . -maxdepth 3 -not -path './include/*' | sort | sed 's/^/  /')
# Only the prefix: CMAKE_FIND_USE_PACKAGE_REGISTRY off so nothing from this build tree leaks in.
cmake -S examples/minimal-host -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >/dev/null
cmake --build "$work/build"
# The host binary must not link the plugin's own libraries.
if ldd "$work/build/mdp-minimal-host" | grep -E 'libbotan|libboost_json'; then
  echo "FAIL: mdp-minimal-host links a library of the plugin"; exit 1
fi
"$work/build/mdp-minimal-host" --plugins "$work/prefix/plugins" --database "$work/minimal.db"

# The packages: one .deb and one .tar.gz per component, each .deb with its Debian dependencies.
cpack --config "$build/CPackConfig.cmake" -G "DEB;TGZ" -B "$work/packages" >/dev/null
for pkg in mdp-host-sdk mdp-plugin-api-access mdp-devhost; do
  deb=$(ls "$work/packages/${pkg}"_*.deb)
  depends=$(dpkg-deb -f "$deb" Depends)
  [[ -n "$depends" ]] || { echo "FAIL: $deb declares no Depends"; exit 1; }
  echo "ok:   $(basename "$deb") Depends: $depends"
done
# (Listed into a variable first: grep -q would close the pipe under dpkg-deb.)
plugin_files=$(dpkg-deb -c "$work/packages"/mdp-plugin-api-access_*.deb)
sdk_files=$(dpkg-deb -c "$work/packages"/mdp-host-sdk_*.deb)
grep -q './opt/mdp/plugins/api-access/libmdp_api_access.so' <<<"$plugin_files" ||
  { echo "FAIL: the plugin package lacks the bundle"; exit 1; }
grep -q './opt/mdp/lib/cmake/MdpHostInterface/MdpHostInterfaceConfigVersion.cmake' <<<"$sdk_files" ||
  { echo "FAIL: the SDK package lacks the CMake package"; exit 1; }
ls "$work/packages"/*.tar.gz | sed 's|.*/|ok:   |'
