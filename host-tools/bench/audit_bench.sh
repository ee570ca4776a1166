#!/usr/bin/env bash
# audit_bench.sh [--build DIR] [--runs N] [--mib N] [--passes P]
#
# What the memhp-audit plugin costs: one scenario — boot the default VM, plug a
# 256 MiB DIMM on node 1 and wait until the agent has onlined it, run the workload
# (memhp-touch --mib N --passes P --node 1: a fixed amount of work on the new memory) — in three
# modes:
#   none      memhpctl launch
#   disarmed  memhpctl launch --audit --audit-arm request   (the plugin loaded, never armed)
#   armed     memhpctl launch --audit                        (armed once the agent says hello)
# and prints the wall time of each phase and the ratios to "none". Numbers, not a test: it
# asserts nothing about them. Needs a built tree (plugin included), socat for the console, and
# root (as every memhp VM here). Each run uses its own temp state root and stops its VM.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
src=$(cd "$here/../.." && pwd -P)
build="$src/build" runs=1 mib=64 passes=4
while [ $# -gt 0 ]; do
    case "$1" in
        --build)  build=$2; shift 2 ;;
        --runs)   runs=$2; shift 2 ;;
        --mib)    mib=$2; shift 2 ;;
        --passes) passes=$2; shift 2 ;;
        *) echo "usage: audit_bench.sh [--build DIR] [--runs N] [--mib N] [--passes P]" >&2; exit 2 ;;
    esac
done
build=$(cd "$build" && pwd -P)
ctl="$build/host-tools/memhpctl/memhpctl"
[ -x "$ctl" ] || { echo "audit_bench.sh: no $ctl (build first)" >&2; exit 1; }
[ -f "$build/qemu-plugin/libmemhp-audit.so" ] || { echo "audit_bench.sh: the plugin is not built in $build" >&2; exit 1; }
[ -x "$build/host-tools/image/memhp-touch" ] || { echo "audit_bench.sh: memhp-touch is not built in $build" >&2; exit 1; }
command -v socat >/dev/null || { echo "audit_bench.sh: needs socat (apt-get install socat)" >&2; exit 1; }
export MEMHP_AGENT_BIN="$build/guest-agent/memhp-agent" MEMHP_MEMHPD_BIN="$build/host-tools/daemon/memhpd"
export MEMHP_AUDIT_PLUGIN="$build/qemu-plugin/libmemhp-audit.so" MEMHP_WORKLOAD_BIN="$build/host-tools/image/memhp-touch"

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }

# Runs one shell command on the guest console and waits for its end marker (10 min at most).
# The marker is written split by quotes so that the echoed command line does not contain it.
# socat runs in the background into a file that is polled (0.1 s), then ended by its pid: the
# time measured is the marker's, not socat's. ignoreeof: socat must not half-close the socket
# when printf ends; QEMU's chardev would take that for a disconnect and drop the output.
guest() {
    local sock=$1 cmd=$2 tag=$RANDOM out pid found=1
    out=$(mktemp)
    printf '%s; echo __BENCH_""DONE_%s__\n' "$cmd" "$tag" |
        socat -,ignoreeof "UNIX-CONNECT:$sock" >"$out" 2>/dev/null &
    pid=$!
    local deadline=$((SECONDS + 600))
    while [ $SECONDS -lt $deadline ]; do
        if grep -q "__BENCH_DONE_${tag}__" "$out"; then found=0; break; fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$out"
    return $found
}

current_root=''
cleanup() {  # a failed run leaves no VM behind
    if [ -n "$current_root" ]; then
        "$ctl" --state-root "$current_root" --vm bench stop >/dev/null 2>&1 || true
        rm -rf "$current_root"
    fi
}
trap cleanup EXIT

run_once() {  # mode -> sets run_boot run_plug run_work (no subshell: the EXIT trap must see it)
    local mode=$1 root vm=bench t0 t1 t2 t3
    root=$(mktemp -d /tmp/memhp-bench-XXXXXX)
    current_root=$root
    local args=(launch)
    case "$mode" in
        disarmed) args+=(--audit --audit-arm request) ;;
        armed)    args+=(--audit) ;;
    esac
    t0=$(now)
    "$ctl" --state-root "$root" --vm $vm "${args[@]}" >/dev/null
    t1=$(now)
    "$ctl" --state-root "$root" --vm $vm qmp object-add '{"qom-type":"memory-backend-ram","id":"mem-b1","size":268435456}' >/dev/null
    "$ctl" --state-root "$root" --vm $vm qmp device_add '{"driver":"pc-dimm","id":"b1","memdev":"mem-b1","node":1}' >/dev/null
    until [ "$("$ctl" --state-root "$root" --vm $vm --json status | grep -o '"state":"BLOCK_STATE_ONLINE"' | wc -l)" -ge 6 ]; do
        sleep 0.2
    done
    t2=$(now)
    guest "$root/$vm/console.sock" "memhp-touch --mib $mib --passes $passes --node 1" ||
        { echo "audit_bench.sh: the workload did not finish ($mode)" >&2; exit 1; }
    t3=$(now)
    "$ctl" --state-root "$root" --vm $vm stop >/dev/null
    rm -rf "$root"
    current_root=''
    run_boot=$(elapsed "$t0" "$t1") run_plug=$(elapsed "$t1" "$t2") run_work=$(elapsed "$t2" "$t3")
}

declare -A boot plug work
for mode in none disarmed armed; do
    b=0 p=0 w=0
    for ((i = 0; i < runs; i++)); do
        run_once "$mode"
        b=$(echo "$b + $run_boot" | bc -l) p=$(echo "$p + $run_plug" | bc -l) w=$(echo "$w + $run_work" | bc -l)
    done
    boot[$mode]=$(echo "$b / $runs" | bc -l) plug[$mode]=$(echo "$p / $runs" | bc -l) work[$mode]=$(echo "$w / $runs" | bc -l)
done

echo "audit plugin cost: boot + plug 256 MiB DIMM + memhp-touch --mib $mib --passes $passes --node 1 ($runs run(s) each, mean wall s)"
printf '%-9s %8s %8s %8s %8s %14s\n' mode boot plug workload total "total/none"
total_none=$(echo "${boot[none]} + ${plug[none]} + ${work[none]}" | bc -l)
for mode in none disarmed armed; do
    total=$(echo "${boot[$mode]} + ${plug[$mode]} + ${work[$mode]}" | bc -l)
    printf '%-9s %8.2f %8.2f %8.2f %8.2f %13.2fx\n' "$mode" "${boot[$mode]}" "${plug[$mode]}" "${work[$mode]}" "$total" \
        "$(echo "$total / $total_none" | bc -l)"
done
printf 'workload ratio: disarmed %.2fx, armed %.2fx\n' "$(echo "${work[disarmed]} / ${work[none]}" | bc -l)" \
    "$(echo "${work[armed]} / ${work[none]}" | bc -l)"
