#!/usr/bin/env bash
# libvirt_bench.sh [--build DIR] [--reps N] [--no-write]
#
# The libvirt engine against QMP, in one run, on the same guest (kernel, image, layout): the
# default VM launched by memhp (QMP) and the same VM as a transient libvirt domain (launch
# --engine libvirt), one after the other. For each: `memhpctl plug` of a 256 MiB DIMM (ends when
# every block is online), its `unplug` (ends when the device is gone: QMP's DEVICE_DELETED or
# libvirt's DEVICE_REMOVED), and `resize vmem1` to 512 MiB and back to 0 (ends when the size is
# reached and, growing, every block is online). memhpd's own duration per operation, medians of
# --reps (default 3), and the ratio libvirt/QMP. Prints a table and, unless --no-write, replaces
# the "libvirt against QMP" section of docs/benchmarks.md. Numbers, not a test. Run it under
# `flock /tmp/memhp-vm.lock` on a shared machine.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
src=$(cd "$here/../.." && pwd -P)
build="$src/build" reps=3 write=1
command_args="$*"
while [ $# -gt 0 ]; do
    case "$1" in
        --build)    build=$2; shift 2 ;;
        --reps)     reps=$2; shift 2 ;;
        --no-write) write=0; shift ;;
        *) echo "usage: libvirt_bench.sh [--build DIR] [--reps N] [--no-write]" >&2; exit 2 ;;
    esac
done
build=$(cd "$build" && pwd -P)
ctl="$build/host-tools/memhpctl/memhpctl"
[ -x "$ctl" ] || { echo "libvirt_bench.sh: no $ctl (build first)" >&2; exit 1; }
export MEMHP_AGENT_BIN="$build/guest-agent/memhp-agent" MEMHP_MEMHPD_BIN="$build/host-tools/daemon/memhpd"

root=$(mktemp -d /tmp/memhp-lvbench-XXXXXX)
trap '"$ctl" --state-root "$root" --vm bq stop >/dev/null 2>&1 || true
      "$ctl" --state-root "$root" --vm bl stop >/dev/null 2>&1 || true; rm -rf "$root"' EXIT

PYTHONPATH="$here" python3 - "$reps" "$write" "$src/docs/benchmarks.md" "$command_args" "$ctl" "$root" <<'PY'
import json, statistics, subprocess, sys, os

reps, write, doc, args, ctl, root = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]

def run(vm, *a):
    p = subprocess.run([ctl, "--state-root", root, "--vm", vm] + list(a), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("libvirt_bench.sh: memhpctl --vm %s %s -> %d: %s%s" % (vm, " ".join(a), p.returncode, p.stdout, p.stderr))
    return p

def op(vm, *a):
    r = json.loads(run(vm, "--json", *a).stdout)
    if r.get("outcome") != "OPERATION_OUTCOME_DONE":
        sys.exit("libvirt_bench.sh: %s: %s" % (" ".join(a), r.get("detail")))
    return int(r["duration_us"]) / 1e6

names = ["plug 256 MiB DIMM", "unplug 256 MiB DIMM", "resize vmem1 0 -> 512 MiB", "resize vmem1 512 MiB -> 0"]
med = {}
for engine, vm, launch in (("QMP", "bq", []), ("libvirt", "bl", ["--engine", "libvirt"])):
    run(vm, "launch", *launch)
    times = {n: [] for n in names}
    for i in range(reps):
        times[names[0]].append(op(vm, "plug", "--size", "256M", "--node", "1", "--id", "b%d" % i))
        times[names[1]].append(op(vm, "unplug", "b%d" % i))
        times[names[2]].append(op(vm, "resize", "vmem1", "--size", "512M"))
        times[names[3]].append(op(vm, "resize", "vmem1", "--size", "0M", "--offline-first"))
    run(vm, "stop")
    med[engine] = {n: statistics.median(v) for n, v in times.items()}

out = ["`%s` (medians of %d, memhpd's own duration per operation; "
       "the default VM under TCG, launched by memhp over QMP and as a transient libvirt domain):" % (
           ("host-tools/bench/libvirt_bench.sh " + args).strip(), reps), "",
       "| operation | QMP | libvirt | libvirt / QMP |", "|---|---|---|---|"]
for n in names:
    q, l = med["QMP"][n], med["libvirt"][n]
    out.append("| %s | %.3f s | %.3f s | %.2f |" % (n, q, l, l / q if q else float("nan")))
text = "\n".join(out) + "\n"
print(text)
if write:
    from bench_doc import replace_section
    replace_section(doc, "## libvirt against QMP", text)
PY
