#!/usr/bin/env bash
# sanitizer-builds.sh — the two extra builds tests/run.sh checks memhp with, beside the normal one.
#
#   build-asan  clang-14, AddressSanitizer + UndefinedBehaviorSanitizer (any UB report aborts:
#               -fno-sanitize-recover), every library instrumented for libFuzzer (-Dfuzzing);
#               runs the unit, qemu and fuzz suites and a bounded run of every libFuzzer target.
#   build-tsan  clang-14, ThreadSanitizer; builds only the tests of suite 'tsan' (the plugin's
#               per-vCPU counters, the agent's offline writer thread): the code that has threads.
#
# Run after bootstrap.sh (which installs clang-14 and its sanitizer runtimes with every other
# package and fetches the plugin header), so this script only configures and builds. Both are
# configured once and rebuilt incrementally (ccache shares objects across runs). Environment:
# MEMHP_BUILD (the normal build directory; the sanitizer builds are its siblings, <build>-asan
# and <build>-tsan), MEMHP_CACHE as for bootstrap.sh. Prints the two directories, one a line.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${MEMHP_BUILD:-$src/build}
cache=${MEMHP_CACHE:-/var/cache/memhp}
plugin_include="$cache/qemu-plugin-include"

say() { printf 'memhp-setup: %s\n' "$*" >&2; }

for tool in clang-14 clang++-14; do
  command -v "$tool" >/dev/null || { say "$tool missing: run host-tools/setup/bootstrap.sh first"; exit 1; }
done

# configure DIR OPTION... — meson setup once with clang, later only the options.
configure() {
  local dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    say "configuring $dir"
    CC=clang-14 CXX=clang++-14 meson setup "$dir" "$src" -Dplugin_include="$plugin_include" "$@" >&2
  else
    meson configure "$dir" -Dplugin_include="$plugin_include" "$@" >&2
  fi
}

# b_lundef=false: the sanitizer runtimes are linked into executables only, so the plugin's
# shared module leaves their symbols undefined. -fno-sanitize-recover: UBSan's reports abort
# the test instead of scrolling by in a passing one.
configure "$build-asan" -Db_sanitize=address,undefined -Db_lundef=false -Dfuzzing=true \
  -Dcpp_args=-fno-sanitize-recover=undefined -Dcpp_link_args=-fno-sanitize-recover=undefined
say "building $build-asan"
ninja -C "$build-asan" >/dev/null || { ninja -C "$build-asan" >&2; exit 1; }

configure "$build-tsan" -Db_sanitize=thread -Db_lundef=false
# Only what suite 'tsan' runs (the targets meson would rebuild for it).
mapfile -t tsan_targets < <(meson introspect --tests "$build-tsan" | python3 -c '
import json, os, sys
build = sys.argv[1]
for t in json.load(sys.stdin):
    if any(s.split(":")[-1] == "tsan" for s in t["suite"]):
        print(os.path.relpath(t["cmd"][0], build))
' "$build-tsan")
if [ "${#tsan_targets[@]}" -eq 0 ]; then
  say "no test of suite tsan in $build-tsan"
  exit 1
fi
say "building ${#tsan_targets[@]} ThreadSanitizer tests in $build-tsan"
ninja -C "$build-tsan" "${tsan_targets[@]}" >/dev/null || { ninja -C "$build-tsan" "${tsan_targets[@]}" >&2; exit 1; }

echo "$build-asan"
echo "$build-tsan"
