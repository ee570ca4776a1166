#!/usr/bin/env bash
# perf_bench.sh [--build DIR] [--cycles N] [--idle S] [--status-runs N] [--no-write] [--keep DIR]
#
# issue 12's pairs, in one run on one machine, as one table with ratios. Numbers, not a test:
# nothing here passes or fails.
#
# P1 onlining: two fresh boots of the default VM (TCG here), each plugging virtio-mem vmem0
#    0 -> 1 GiB (`memhpctl resize`) and then a 512 MiB DIMM on node 0 (`memhpctl plug`):
#      memhp  — the agent's default policy (auto-movable, per device) onlines;
#      kernel — the kernel onlines inside add_memory() (`memhp_default_state=online
#               memory_hotplug.online_policy=auto-movable`), the agent (`--policy manual`) only
#               watches and reports.
#    The time is measured on the guest's own clock, from `memhpctl watch`'s record of the agent's
#    events: from the agent's intent_taken event (memhpd tells the agent the device before its
#    QMP request, agent.proto PlugIntentTaken) to the last ONLINE event of the device's blocks.
#    Both stamps are the agent's CLOCK_REALTIME when it logged the event, so no host-guest clock
#    agreement is needed (the guest's clock is set from the RTC to the second only); the start
#    lies one intent round trip before QMP's device_add / qom-set, the same in both modes. The
#    zones the blocks landed in are counted from the same ONLINE events.
# P3 footprint (memhp boot): the agent's VmRSS and RssAnon after N virtio-mem 0 -> 512 MiB -> 0
#    cycles (`memhpctl resize`), and its context switches over S seconds idle, host connected.
# P4 CLI cost (memhp boot): `memhpctl status --no-refresh` exec to exit on the warm daemon,
#    median of --status-runs; the plug-over-raw-QMP pair is ops_bench.sh's.
# Unless --no-write, the table and the command replace the "Performance (issue 12): latest run" section of
# docs/benchmarks.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
src=$(cd "$here/../.." && pwd -P)
build="$src/build" cycles=20 idle=60 status_runs=20 write=1 keep=
command_args="$*"
while [ $# -gt 0 ]; do
    case "$1" in
        --build)       build=$2; shift 2 ;;
        --cycles)      cycles=$2; shift 2 ;;
        --idle)        idle=$2; shift 2 ;;
        --status-runs) status_runs=$2; shift 2 ;;
        --no-write)    write=0; shift ;;
        --keep)        keep=$(mkdir -p "$2" && cd "$2" && pwd -P); shift 2 ;;
        *) echo "usage: perf_bench.sh [--build DIR] [--cycles N] [--idle S] [--status-runs N] [--no-write] [--keep DIR]" >&2; exit 2 ;;
    esac
done
build=$(cd "$build" && pwd -P)
ctl="$build/host-tools/memhpctl/memhpctl"
[ -x "$ctl" ] || { echo "perf_bench.sh: no $ctl (build first)" >&2; exit 1; }
export MEMHP_AGENT_BIN="$build/guest-agent/memhp-agent" MEMHP_MEMHPD_BIN="$build/host-tools/daemon/memhpd"
. "$here/bench_lib.sh"

root=$(mktemp -d /tmp/memhp-perfbench-XXXXXX)
vm=pb
watcher=
cleanup() {
    [ -n "$watcher" ] && kill "$watcher" 2>/dev/null || true
    bench_ctl stop >/dev/null 2>&1 || true
    # --keep DIR: the raw records (watch lines, answers) stay for a closer look.
    [ -n "$keep" ] && [ -d "$root/results" ] && cp -r "$root/results/." "$keep/"
    rm -rf "$root"
}
trap cleanup EXIT
out="$root/results"
mkdir -p "$out"

# One boot: both plugs recorded by `memhpctl --json watch` into $out/MODE.watch, then (memhp
# mode only) the footprint and CLI figures into $out/MODE.extra.
run_mode() {
    local mode=$1; shift
    bench_ctl launch "$@" >/dev/null
    bench_wait_agent
    bench_ctl --json watch >"$out/$mode.watch" 2>/dev/null &
    watcher=$!
    # memhpd's first line to a watcher is "watching": from then on it misses nothing.
    for _ in $(seq 1 100); do
        grep -q '"watching"' "$out/$mode.watch" 2>/dev/null && break
        sleep 0.1
    done
    grep -q '"watching"' "$out/$mode.watch" || { echo "perf_bench.sh: memhpctl watch did not start" >&2; exit 1; }
    bench_ctl --json resize vmem0 --size 1G >"$out/$mode.resize.json"
    bench_ctl --json plug --size 512M --node 0 --id b1 >"$out/$mode.plug.json"
    if [ "$mode" = memhp ]; then
        local pid; pid=$(bench_agent_pid)
        local rss0 anon0; rss0=$(bench_agent_status "$pid" VmRSS); anon0=$(bench_agent_status "$pid" RssAnon)
        for _ in $(seq 1 "$cycles"); do
            bench_ctl resize vmem1 --size 512M >/dev/null
            bench_ctl resize vmem1 --size 0 >/dev/null
        done
        local rss1 anon1; rss1=$(bench_agent_status "$pid" VmRSS); anon1=$(bench_agent_status "$pid" RssAnon)
        local cs0 cs1
        cs0=$(( $(bench_agent_status "$pid" voluntary_ctxt_switches) + $(bench_agent_status "$pid" nonvoluntary_ctxt_switches) ))
        sleep "$idle"  # the quantity measured is what the agent does in this time
        cs1=$(( $(bench_agent_status "$pid" voluntary_ctxt_switches) + $(bench_agent_status "$pid" nonvoluntary_ctxt_switches) ))
        # The two console reads between the snapshots are the shell's, not the agent's.
        echo "rss_kib_before=$rss0 anon_kib_before=$anon0 rss_kib=$rss1 anon_kib=$anon1 ctxt_switches=$(( cs1 - cs0 ))" \
             "agent_bytes=$(stat -c %s "$MEMHP_AGENT_BIN")" >"$out/$mode.extra"
        python3 - "$status_runs" "$ctl" --state-root "$root" --vm "$vm" >>"$out/$mode.extra" <<'PY'
import statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:] + ["status", "--no-refresh"]
subprocess.run(cmd, capture_output=True, check=True)  # warm: the daemon's first answer
t = []
for _ in range(runs):
    s = time.monotonic(); subprocess.run(cmd, capture_output=True, check=True); t.append(time.monotonic() - s)
print("status_ms=%.2f" % (statistics.median(t) * 1000))
PY
    fi
    kill "$watcher" 2>/dev/null || true
    wait "$watcher" 2>/dev/null || true
    watcher=
    bench_ctl stop >/dev/null
}

run_mode memhp
run_mode kernel --kernel-append "memhp_default_state=online memory_hotplug.online_policy=auto-movable" \
    --agent-args "--policy manual"

PYTHONPATH="$here" python3 - "$out" "$write" "$src/docs/benchmarks.md" "$command_args" "$cycles" "$idle" "$status_runs" <<'PY'
import os, sys, time
from bench_doc import agent_watch_lines, replace_section

out, write, doc, args = sys.argv[1], sys.argv[2] == "1", sys.argv[3], sys.argv[4]
cycles, idle, status_runs = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
ZONES = {"ZONE_MOVABLE": "Movable", "ZONE_NORMAL": "Normal", "ZONE_DMA32": "DMA32"}

def onlining(mode, device):
    """ms from the intent_taken of `device` to the last ONLINE of its blocks, zones, block count."""
    start, last, zones, blocks = None, None, {}, set()
    for w in agent_watch_lines(os.path.join(out, mode + ".watch")):
        e = w.get("data", {})
        t = int(e.get("time_unix_ns", 0))
        if "intent_taken" in e and e["intent_taken"].get("device_id") == device:
            start = t
        m = e.get("memory")
        if m and m.get("device_id") == device and m.get("kind") == "MEMORY_EVENT_KIND_ONLINE" and start is not None:
            last = t
            blocks.add(m.get("block", 0))
            z = ZONES.get(m.get("zone"), m.get("zone", "?"))
            zones[z] = zones.get(z, 0) + 1
    if start is None or last is None:
        return None, {}, 0
    return (last - start) / 1e6, zones, len(blocks)

def zones_text(z):
    return ", ".join("%d %s" % (n, k) for k, n in sorted(z.items())) or "none"

rows = []
for what, device in (("virtio-mem vmem0 0 → 1 GiB (`memhpctl resize`)", "vmem0"),
                     ("512 MiB DIMM on node 0 (`memhpctl plug`)", "b1")):
    a, az, ab = onlining("memhp", device)
    k, kz, kb = onlining("kernel", device)
    ratio = "%.2f×" % (a / k) if a and k else "—"
    rows.append("| %s | %s | %s | %s | %s |" % (
        what, "%.0f ms (%d blocks: %s)" % (a, ab, zones_text(az)) if a else "not all online",
        "%.0f ms (%d blocks: %s)" % (k, kb, zones_text(kz)) if k else "not all online", ratio,
        "same" if az == kz else "differ"))

extra = {}
for f in ("memhp.extra",):
    for tok in open(os.path.join(out, f)).read().split():
        key, _, val = tok.partition("=")
        extra[key] = val

text = []
text.append("Command: `host-tools/bench/perf_bench.sh%s` — %s, two fresh boots of the default VM, %s." % (
    (" " + args) if args else "", "one run", time.strftime("%Y-%m-%d", time.gmtime())))
text.append("")
text.append("| P1: host request → last block online (guest clock) | memhp (agent policy) | kernel auto-online (auto-movable) | memhp / kernel | zones |")
text.append("|---|---:|---:|---:|---|")
text.extend(rows)
text.append("")
text.append("| P3/P4 (memhp boot) | measured | goal |")
text.append("|---|---:|---:|")
text.append("| agent VmRSS after %d virtio-mem 512 MiB plug/unplug cycles | %s KiB (before the cycles: %s) | ≤ 2200 KiB |" % (
    cycles, extra.get("rss_kib", "?"), extra.get("rss_kib_before", "?")))
text.append("| agent RssAnon after the cycles | %s KiB (before: %s) | ≤ 1024 KiB |" % (
    extra.get("anon_kib", "?"), extra.get("anon_kib_before", "?")))
text.append("| agent context switches over %d s idle, host connected | %s | 0 |" % (idle, extra.get("ctxt_switches", "?")))
text.append("| `memhpctl status --no-refresh`, exec to exit, warm daemon (median of %d) | %s ms | ≤ 5 ms |" % (
    status_runs, extra.get("status_ms", "?")))
text.append("| memhp-agent binary | %s bytes | — |" % extra.get("agent_bytes", "?"))
body = "\n".join(text) + "\n"
print(body)

if write:
    replace_section(doc, "## Performance (issue 12): latest run", body)
PY
