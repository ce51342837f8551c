#!/usr/bin/env bash
# module_exports.sh LIB SYMBOL...: the plugin module LIB exports exactly SYMBOL... (nm -D
# --defined-only), and runs no code of its own when it is loaded: its .init_array holds only the
# compiler runtime's frame_dummy, so no global constructor of the plugin runs before the host's
# checks. Prints what differs and exits 1 otherwise.
set -euo pipefail
lib=$1; shift
fail=0

expected=$(printf '%s\n' "$@" | sort)
actual=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sort)
if [[ "$actual" != "$expected" ]]; then
  echo "FAIL: $lib exports other symbols than the entry points"
  diff <(echo "$expected") <(echo "$actual") | sed 's/^/  /' || true
  fail=1
else
  echo "ok: $lib exports exactly: $(echo $expected)"
fi

# .init_array: [N] .init_array INIT_ARRAY <addr> <offset> <size> ...
read -r start size < <(readelf -SW "$lib" | sed 's/^ *\[ *[0-9]*\] *//' |
                         awk '$1 == ".init_array" {print $3, $5}') || true
if [[ -z "${start:-}" ]]; then
  echo "ok: $lib has no .init_array"
else
  start=$((16#$start)); end=$((start + 16#$size))
  # Each entry is an R_X86_64_RELATIVE relocation whose addend is the function's address.
  mapfile -t targets < <(readelf -rW "$lib" | awk '$3 == "R_X86_64_RELATIVE" {print $1, $NF}' |
                         while read -r off addend; do
                           o=$((16#$off)); if ((o >= start && o < end)); then echo "$addend"; fi
                         done)
  symbols=$(nm "$lib")
  for t in "${targets[@]}"; do
    addr=$(printf '%016x' "$((16#$t))")
    # Compared as strings: awk reads an address like 000000000000e440 as the number 0e440 = 0.
    name=$(awk -v a="$addr" '($1 "") == (a "") && !found {print $3; found = 1}' <<<"$symbols")
    if [[ "$name" != "frame_dummy" ]]; then
      echo "FAIL: $lib runs ${name:-code at 0x$t} when it is loaded (a global constructor)"
      fail=1
    fi
  done
  echo "checked: $lib .init_array has ${#targets[@]} entr$( ((${#targets[@]} == 1)) && echo y || echo ies)"
fi
exit $fail
