#!/usr/bin/env bash
# run.sh — every memhp test suite (unit, qemu, vm, fuzz), after the set-up they need.
#
# The README's second quick-start command. bootstrap.sh installs packages, builds, and fetches
# the guest kernel; then `meson test` runs every suite. The last line counts test cases (each
# GoogleTest case, and each non-gtest test as one) as "N passed, N failed". Extra arguments go
# to meson test (e.g. --suite unit).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$("$src/host-tools/setup/bootstrap.sh" | tail -n 1)

set +e
meson test -C "$build" --print-errorlogs "$@"
rc=$?
set -e

python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, re, sys
ok_re = re.compile(r"^\[       OK \] \S+ \(\d+ ms\)$", re.M)
fail_re = re.compile(r"^\[  FAILED  \] \S+ \(\d+ ms\)$", re.M)
passed = failed = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    out = t.get("stdout") or ""
    p, f = len(ok_re.findall(out)), len(fail_re.findall(out))
    good = t.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
    if p == 0 and f == 0:
        p, f = (1, 0) if good else (0, 1)
    elif not good and f == 0:
        f = 1  # crashed or timed out after its last finished case
    passed += p
    failed += f
print(f"{passed} passed, {failed} failed")
PY
exit $rc
