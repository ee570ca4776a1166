#!/bin/bash
# memhp benchmark: how fast hot-added memory comes online — the agent's policy
# (auto-movable, per device) against the kernel's own auto-online (memhp_default_state=
# online_movable with the agent's policy manual, so the agent only watches).
#
# One run per mode on the default VM (2 nodes, TCG unless KVM is there): the time from the QMP
# request to every block online, for a 1 GiB virtio-mem growth (qom-set requested-size) and a
# 512 MiB pc-dimm (device_add), polled through `memhpctl --json status --no-refresh` every
# ~100 ms: memhpd's copy of the inventory, which the agent updates with an inventory_changed
# event 200 ms after the last change (coalesced), the same in both modes — so the figures carry
# ~100-300 ms of detection delay, and polling never makes the agent read sysfs; then the agent's VmRSS and the CPU time (utime+stime from
# /proc/PID/stat) it used during the two plugs per memory event it reported in that time
# (memhpd keeps the last 256 events: the count is exact for these few dozen), read in the guest
# over the serial console.
# Numbers, not a test: nothing here passes or fails.
#
# usage: host-tools/bench/agent_online_bench.sh [BUILD_DIR [REPS]]   (default: build 1)
set -euo pipefail

build=${1:-build}
reps=${2:-1}
ctl="$build/host-tools/memhpctl/memhpctl"
[ -x "$ctl" ] || { echo "no memhpctl at $ctl (build it first)" >&2; exit 2; }
export MEMHP_AGENT_BIN=${MEMHP_AGENT_BIN:-$build/guest-agent/memhp-agent}
export MEMHP_MEMHPD_BIN=${MEMHP_MEMHPD_BIN:-$build/host-tools/daemon/memhpd}
root=$(mktemp -d /tmp/memhp-bench.XXXXXX)
vm=bench
trap '"$ctl" --state-root "$root" --vm "$vm" stop >/dev/null 2>&1 || true; rm -rf "$root"' EXIT

here=$(cd "$(dirname "$0")" && pwd -P)
. "$here/bench_lib.sh"
c() { bench_ctl "$@"; }
guest() { bench_guest "$1"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Online blocks of the agent's inventory in [start, start + size).
online_in() {
    c --json status --no-refresh | jq --argjson s "$1" --argjson n "$2" \
        '[.result.agent.inventory.blocks[]? | select((.start_address|tonumber) >= $s and (.start_address|tonumber) < ($s + $n) and .state == "BLOCK_STATE_ONLINE")] | length'
}
device_address() { c --json status | jq -r --arg id "$1" '.result.devices[] | select(.id == $id) | .address'; }

# Waits until `blocks` blocks of [start, start + size) are online; prints the ms since $3.
wait_online() {
    local start=$1 size=$2 t0=$3 blocks=$(( $2 / (128 << 20) ))
    for _ in $(seq 1 1200); do
        if [ "$(online_in "$start" "$size")" -ge "$blocks" ]; then echo $(( $(now_ms) - t0 )); return; fi
        sleep 0.1
    done
    echo "timeout"
}

agent_ticks() { bench_agent_ticks "$1"; }
memory_events() { c --json events | jq '[.result.events[] | select(.memory)] | length'; }

run_mode() {
    local mode=$1; shift
    c launch "$@" >/dev/null
    bench_wait_agent
    local pid; pid=$(guest 'pidof memhp-agent' | grep -Eo '^[0-9]+' | head -1)
    local ticks0; ticks0=$(agent_ticks "$pid")
    local events0; events0=$(memory_events)
    local vaddr; vaddr=$(device_address vmem0)
    local t0; t0=$(now_ms)
    c qmp qom-set '{"path":"vmem0","property":"requested-size","value":1073741824}' >/dev/null
    local vmem_ms; vmem_ms=$(wait_online "$vaddr" $((1 << 30)) "$t0")

    c qmp object-add '{"qom-type":"memory-backend-ram","id":"mem-b1","size":536870912}' >/dev/null
    t0=$(now_ms)
    c qmp device_add '{"driver":"pc-dimm","id":"b1","memdev":"mem-b1","node":0}' >/dev/null
    local daddr; daddr=$(device_address b1)
    local dimm_ms; dimm_ms=$(wait_online "$daddr" $((512 << 20)) "$t0")

    sleep 1  # let the agent's coalesced inventory and zone reports go out
    local rss; rss=$(bench_agent_status "$pid" VmRSS)
    local ticks1; ticks1=$(agent_ticks "$pid")
    local utime=$(( ${ticks1% *} - ${ticks0% *} )) stime=$(( ${ticks1#* } - ${ticks0#* } ))
    local ticks=$(( utime + stime ))
    local events; events=$(( $(memory_events) - events0 ))
    c stop >/dev/null
    # USER_HZ is 100 on x86_64: one tick is 10 ms.
    echo "$mode vmem_1GiB_ms=$vmem_ms dimm_512MiB_ms=$dimm_ms agent_rss_kib=$rss" \
         "agent_cpu_ms=$(( ticks * 10 )) (user $(( utime * 10 )) sys $(( stime * 10 ))) memory_events=$events" \
         "cpu_ms_per_event=$(awk -v t="$ticks" -v e="$events" 'BEGIN { printf "%.1f", e ? t * 10 / e : 0 }')"
}

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) CPUs; memhp $(c version 2>/dev/null | head -1)"
for _ in $(seq 1 "$reps"); do
    run_mode agent
    run_mode kernel --kernel-append memhp_default_state=online_movable --agent-args "--policy manual"
done
