#!/usr/bin/env bash
# run.sh — every memhp test suite, after the set-up they need, then the same code under the
# sanitizers.
#
# The README's second quick-start command. bootstrap.sh installs packages, builds, and fetches
# the guest kernel; `meson test` runs every suite (unit, qemu, vm, fuzz) of the normal build.
# Then host-tools/setup/sanitizer-builds.sh makes two clang builds and their suites run:
# build-asan (ASan + UBSan: unit, qemu, fuzz, and a bounded run of every libFuzzer target) and
# build-tsan (ThreadSanitizer: suite 'tsan'). Extra arguments go to the normal build's meson
# test (e.g. --suite unit); the sanitizer runs are always whole.
#
# The summary counts test cases over all three runs (each GoogleTest case, and each non-gtest
# test as one): a skipped case (GTEST_SKIP, or a test exiting 77) is counted as skipped, never
# as passed; a suite or test this machine can run that did not run at all is a failure with a
# line saying why. The second-to-last line is "N skipped"; the last is "N passed, N failed".
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$("$src/host-tools/setup/bootstrap.sh" | tail -n 1)
cache=${MEMHP_CACHE:-/var/cache/memhp}

# A log left by an earlier run must never stand in for one that did not happen.
rm -f "$build/meson-logs/testlog.json"
rc=0
set +e
meson test -C "$build" --print-errorlogs "$@" || rc=1
set -e

# The sanitizer builds come after the normal run, so its results are in even if they fail.
logs=("normal:$build/meson-logs/testlog.json")
if sanitized=$(MEMHP_BUILD="$build" "$src/host-tools/setup/sanitizer-builds.sh"); then
  asan=$(sed -n 1p <<<"$sanitized")
  tsan=$(sed -n 2p <<<"$sanitized")
  # meson names the log of a wrapped run after the wrapper: testlog-setarch.json.
  tsan_log="$tsan/meson-logs/testlog-setarch.json"
  rm -f "$asan/meson-logs/testlog.json" "$tsan_log"
  set +e
  # halt_on_error: a UBSan report (also aborted by -fno-sanitize-recover) or an ASan one ends
  # the test with a failure and a stack.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C "$asan" --print-errorlogs --suite unit --suite qemu --suite fuzz --suite libfuzzer || rc=1
  # setarch -R (no ASLR): LLVM 14's TSan cannot place its shadow memory when the kernel
  # randomises mmap with more than 28 bits (vm.mmap_rnd_bits=32 on newer kernels).
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    meson test -C "$tsan" --print-errorlogs --no-rebuild --suite tsan \
      --wrapper "setarch $(uname -m) -R" || rc=1
  set -e
  logs+=("asan:$asan/meson-logs/testlog.json" "tsan:$tsan_log")
else
  echo "run.sh: the sanitizer builds failed (see above)" >&2
  logs+=("asan:" "tsan:")
  rc=1
fi

have_plugin_header=0
[ -f "$cache/qemu-plugin-include/qemu-plugin.h" ] && have_plugin_header=1
python3 "$src/tests/summarize.py" --plugin-header "$have_plugin_header" --normal-args "$*" "${logs[@]}" || rc=1
exit $rc
