#!/usr/bin/env bash
# ops_bench.sh [--build DIR] [--reps N] [--mib N] [--no-write]
#
# What memhp's host operations cost, in one run on one default VM (TCG here):
#   1. DIMM vs virtio-mem, same size: `memhpctl plug` + `memhpctl unplug` of a pc-dimm against
#      `memhpctl resize vmem1` up and back to 0, each a whole transaction (guest side included:
#      plug ends when every block is online, unplug when the DIMM is gone), and their ratios;
#   2. memhpctl's overhead over the same raw QMP commands sent with `memhpctl qmp`: object-add +
#      device_add, then waiting for the agent to report every block online (polling `status`);
#      device_del, waiting for the DIMM to leave query-memory-devices, object-del. The difference
#      is what the transaction adds (admission queries, the device map, the agent's offline
#      first, the journal's fsyncs) minus what polling from a shell costs.
# Medians of --reps repetitions (default 3). Prints a table and, unless --no-write, replaces the
# "Host operations" section of docs/benchmarks.md (creating the file if needed) with it and the
# command. Numbers, not a test: nothing is asserted about them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
src=$(cd "$here/../.." && pwd -P)
build="$src/build" reps=3 mib=256 write=1
command_args="$*"
while [ $# -gt 0 ]; do
    case "$1" in
        --build)    build=$2; shift 2 ;;
        --reps)     reps=$2; shift 2 ;;
        --mib)      mib=$2; shift 2 ;;
        --no-write) write=0; shift ;;
        *) echo "usage: ops_bench.sh [--build DIR] [--reps N] [--mib N] [--no-write]" >&2; exit 2 ;;
    esac
done
build=$(cd "$build" && pwd -P)
ctl="$build/host-tools/memhpctl/memhpctl"
[ -x "$ctl" ] || { echo "ops_bench.sh: no $ctl (build first)" >&2; exit 1; }
export MEMHP_AGENT_BIN="$build/guest-agent/memhp-agent" MEMHP_MEMHPD_BIN="$build/host-tools/daemon/memhpd"

root=$(mktemp -d /tmp/memhp-opsbench-XXXXXX)
m=("$ctl" --state-root "$root" --vm ob)
trap '"${m[@]}" stop >/dev/null 2>&1 || true; rm -rf "$root"' EXIT
"${m[@]}" launch >/dev/null

PYTHONPATH="$here" python3 - "$reps" "$mib" "$write" "$src/docs/benchmarks.md" "$command_args" "${m[@]}" <<'PY'
import json, os, statistics, subprocess, sys, time

reps, mib, write, doc, args = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4], sys.argv[5]
ctl = sys.argv[6:]
size = mib << 20

def run(*a, check=True):
    p = subprocess.run(ctl + list(a), capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.exit("ops_bench.sh: memhpctl %s -> %d: %s%s" % (" ".join(a), p.returncode, p.stdout, p.stderr))
    return p

def timed(*a):
    t = time.monotonic()
    p = run(*a)
    return time.monotonic() - t, p

def op(*a):
    """A memhpctl operation with --json: wall seconds and memhpd's own duration."""
    wall, p = timed("--json", *a)
    r = json.loads(p.stdout).get("result") or {}  # the --json envelope (docs/cli-json.md)
    if r.get("outcome") != "OPERATION_OUTCOME_DONE":
        sys.exit("ops_bench.sh: %s ended %s: %s" % (" ".join(a), r.get("outcome"), r.get("detail")))
    return wall, int(r.get("duration_us", 0)) / 1e6

def devices():
    return json.loads(run("--json", "status", "--no-refresh").stdout)["result"].get("devices", [])

def blocks_online(start, length):
    s = json.loads(run("--json", "status").stdout)["result"]
    bs = int(s["agent"]["inventory"]["block_size_bytes"])
    want = set(range(start // bs, (start + length) // bs))
    got = {b["id"] for b in s["agent"]["inventory"].get("blocks", []) if b.get("state") == "BLOCK_STATE_ONLINE"}
    return want <= got

def wait(pred, limit=120.0):
    t = time.monotonic()
    while not pred():
        if time.monotonic() - t > limit:
            sys.exit("ops_bench.sh: gave up waiting")
        time.sleep(0.05)

res = {k: [] for k in ("dimm_plug", "dimm_unplug", "vmem_grow", "vmem_shrink", "dimm_plug_d", "dimm_unplug_d",
                       "vmem_grow_d", "vmem_shrink_d", "raw_add_cmds", "raw_plug", "raw_unplug")}
for i in range(reps):
    w, d = op("plug", "--size", "%dM" % mib, "--node", "1", "--id", "bd%d" % i)
    res["dimm_plug"].append(w); res["dimm_plug_d"].append(d)
    w, d = op("unplug", "bd%d" % i)
    res["dimm_unplug"].append(w); res["dimm_unplug_d"].append(d)
    w, d = op("resize", "vmem1", "--size", "%dM" % mib)
    res["vmem_grow"].append(w); res["vmem_grow_d"].append(d)
    w, d = op("resize", "vmem1", "--size", "0", "--offline-first")
    res["vmem_shrink"].append(w); res["vmem_shrink_d"].append(d)

    # The same DIMM plug and unplug with raw QMP through memhpd, waiting from here.
    dev, mem = "rd%d" % i, "mem-rd%d" % i
    t = time.monotonic()
    run("qmp", "object-add", json.dumps({"qom-type": "memory-backend-ram", "id": mem, "size": size}))
    run("qmp", "device_add", json.dumps({"driver": "pc-dimm", "id": dev, "memdev": mem, "node": 1}))
    res["raw_add_cmds"].append(time.monotonic() - t)
    addr = next(int(x["address"]) for x in devices() if x.get("id") == dev)
    wait(lambda: blocks_online(addr, size))
    res["raw_plug"].append(time.monotonic() - t)
    t = time.monotonic()
    run("qmp", "device_del", json.dumps({"id": dev}))
    wait(lambda: all(x.get("id") != dev for x in devices()))
    run("qmp", "object-del", json.dumps({"id": mem}))
    res["raw_unplug"].append(time.monotonic() - t)

med = {k: statistics.median(v) for k, v in res.items()}
qemu = json.loads(run("--json", "status", "--no-refresh").stdout)["result"].get("qemu", {})
rows = [
    ("DIMM plug (memhpctl plug, until every block is online)", med["dimm_plug"], med["dimm_plug_d"]),
    ("DIMM unplug (memhpctl unplug: offline, device_del, DEVICE_DELETED, object-del)", med["dimm_unplug"], med["dimm_unplug_d"]),
    ("virtio-mem grow 0 -> %d MiB (memhpctl resize)" % mib, med["vmem_grow"], med["vmem_grow_d"]),
    ("virtio-mem shrink -> 0 (memhpctl resize --offline-first)", med["vmem_shrink"], med["vmem_shrink_d"]),
    ("raw QMP object-add + device_add (memhpctl qmp x2, commands only)", med["raw_add_cmds"], None),
    ("raw QMP plug, until the agent reports every block online", med["raw_plug"], None),
    ("raw QMP device_del, until gone, + object-del", med["raw_unplug"], None),
]
out = []
out.append("Command: `host-tools/bench/ops_bench.sh%s` — %s, QEMU %s (%s), %d MiB, median of %d, %s." % (
    (" " + args) if args else "", "one default VM", qemu.get("version", "?"),
    qemu.get("accel", "?") or "?", mib, reps, time.strftime("%Y-%m-%d", time.gmtime())))
out.append("")
out.append("| step | wall (s) | memhpd's duration (s) |")
out.append("|---|---:|---:|")
for name, wall, d in rows:
    out.append("| %s | %.3f | %s |" % (name, wall, "%.3f" % d if d is not None else "—"))
out.append("")
ratio = lambda a, b: a / b if b else float("nan")
out.append("- DIMM / virtio-mem, same size: plug %.2f×, unplug %.2f× (wall)." % (
    ratio(med["dimm_plug"], med["vmem_grow"]), ratio(med["dimm_unplug"], med["vmem_shrink"])))
out.append("- memhpctl plug over raw QMP to the same end (every block online): %+.3f s (%.2f×); over the "
           "two raw commands alone: %+.3f s." % (med["dimm_plug"] - med["raw_plug"], ratio(med["dimm_plug"], med["raw_plug"]),
                                                 med["dimm_plug"] - med["raw_add_cmds"]))
out.append("- memhpctl unplug over raw device_del + wait + object-del: %+.3f s (%.2f×); the transaction "
           "also offlines every block through the agent first (all-or-nothing)." % (
               med["dimm_unplug"] - med["raw_unplug"], ratio(med["dimm_unplug"], med["raw_unplug"])))
out.append("- wall − memhpd's duration is memhpctl's own cost (process start, socket, JSON): plug %.3f s." % (
    med["dimm_plug"] - med["dimm_plug_d"]))
text = "\n".join(out) + "\n"
print(text)

if write:
    from bench_doc import replace_section
    replace_section(doc, "## Host operations", text)
PY
