#!/usr/bin/env python3
"""summarize.py — tests/run.sh's summary over the meson test logs of its runs.

    summarize.py [--plugin-header 0|1] [--normal-args "ARGS"] NAME:TESTLOG.json...

Counts test cases: each GoogleTest case by its [ OK ] / [ FAILED ] / [ SKIPPED ] line, and a
test without such lines as one case (meson's OK/EXPECTEDFAIL passed, SKIP skipped, anything
else failed). A test that crashed or timed out after its last finished case adds a failure.

It also fails what did not run but should have: every run must have its log; each run's
expected suites must have run at least one test; and the tests that a missing optional
dependency turns into disablers (the plugin's) must be there. An empty TESTLOG path means the
run could not be made at all. The normal run's suites follow its --suite/--no-suite arguments.
Prints one "MISSING: ..." line per gap, then "N skipped", then "N passed, N failed" last.
"""
import argparse
import json
import re
import shlex
import sys

OK_RE = re.compile(r"^\[       OK \] \S+ \(\d+ ms\)$", re.M)
FAIL_RE = re.compile(r"^\[  FAILED  \] \S+ \(\d+ ms\)$", re.M)
SKIP_RE = re.compile(r"^\[  SKIPPED \] \S+ \(\d+ ms\)$", re.M)

# What each run must contain: suites with at least one test, and named tests.
EXPECTED = {
    "normal": {"suites": ["unit", "qemu", "vm", "fuzz"],
               "tests": {"unit": ["plugin-audit-core", "plugin-audit-control", "host-libvirt-domain-xml"],
                         "qemu": ["plugin-qemu"], "vm": ["vm-audit", "vm-libvirt"]}},
    "asan": {"suites": ["unit", "qemu", "fuzz", "libfuzzer"],
             "tests": {"unit": ["plugin-audit-core", "plugin-audit-control", "host-libvirt-domain-xml"],
                       "qemu": ["plugin-qemu"]}},
    "tsan": {"suites": ["tsan"],
             "tests": {"tsan": ["plugin-audit-core", "plugin-audit-core-concurrency",
                                "agent-io-sysfs-block-writer",
                                "agent-io-sysfs-block-writer-concurrency"]}},
}
PLUGIN_TESTS = {"plugin-qemu", "vm-audit", "plugin-audit-core", "plugin-audit-control",
                "plugin-audit-core-concurrency"}


def selected_suites(args, suites):
    """The suites of `suites` that meson test ARGS runs (its --suite / --no-suite options)."""
    words = shlex.split(args)
    only, excluded = [], []
    for i, w in enumerate(words):
        for opt, into in (("--suite", only), ("--no-suite", excluded)):
            if w == opt and i + 1 < len(words):
                into.append(words[i + 1])
            elif w.startswith(opt + "="):
                into.append(w.split("=", 1)[1])
    return [s for s in suites if (not only or s in only) and s not in excluded]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plugin-header", default="1")
    parser.add_argument("--normal-args", default="")
    parser.add_argument("logs", nargs="+")
    opts = parser.parse_args()

    passed = failed = skipped = 0
    missing = []
    for spec in opts.logs:
        name, _, path = spec.partition(":")
        expected = EXPECTED.get(name, {"suites": [], "tests": {}})
        suites = expected["suites"]
        if name == "normal":
            suites = selected_suites(opts.normal_args, suites)
        ran = {}  # suite -> names of tests that ran in it
        if path:
            try:
                lines = open(path).read().splitlines()
            except OSError as e:
                lines = []
                missing.append(f"{name}: no test log ({e.strerror}: {path})")
            for line in lines:
                t = json.loads(line)
                # meson names a test "memhp:unit+tsan / plugin-audit-core": project, suites, name.
                suites_part, _, test_name = t["name"].rpartition(" / ")
                for suite in suites_part.split(":")[-1].split("+"):
                    ran.setdefault(suite, set()).add(test_name.strip())
                out = t.get("stdout") or ""
                p, f, s = len(OK_RE.findall(out)), len(FAIL_RE.findall(out)), len(SKIP_RE.findall(out))
                result = t.get("result")
                good = result in ("OK", "EXPECTEDFAIL")
                if p == 0 and f == 0 and s == 0:
                    if result == "SKIP":
                        s = 1
                    elif good:
                        p = 1
                    else:
                        f = 1
                elif not good and f == 0:
                    f = 1  # crashed or timed out after its last finished case
                passed += p
                failed += f
                skipped += s
        else:
            missing.append(f"{name}: the build could not be made, so none of its tests ran")
            continue
        for suite in suites:
            if not ran.get(suite):
                missing.append(f"{name}: suite '{suite}' ran no test")
                continue
            for test in expected["tests"].get(suite, []):
                if test not in ran[suite]:
                    why = ""
                    if test in PLUGIN_TESTS and opts.plugin_header != "1":
                        why = " (no qemu-plugin.h: host-tools/setup/fetch-plugin-header.sh could not fetch it)"
                    missing.append(f"{name}: test '{test}' of suite '{suite}' was not built or did not run{why}")

    for m in missing:
        print(f"MISSING: {m}")
    failed += len(missing)
    print(f"{skipped} skipped")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
