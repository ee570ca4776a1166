#!/usr/bin/env bash
# demo.sh — memhp's main job on the bundled default VM, from nothing.
#
# The README's first quick-start command: set-up (packages, build, guest kernel), then boot the
# default VM (q35, two NUMA nodes, a virtio-mem device per node, the agent on virtio-serial) and
# tell the whole story with memhpctl, a `watch` recording every event meanwhile:
#   status; zones per node; plug a 256 MiB DIMM into node 1 (a transaction: admission,
#   object-add + device_add, the agent onlines every block, per-block answer); grow node 1's
#   virtio-mem device; zones again; unplug the DIMM (its blocks offlined all-or-nothing first,
#   device_del, DEVICE_DELETED, object-del); shrink the virtio-mem device back; zones; stop;
#   then a summary table of every step, how it ended and how long it took. The watch recording
#   and its picture (`memhpctl timeline`: swimlanes of the operations, QMP events and every
#   block's state) are kept in $MEMHP_DEMO_OUT (default /tmp/memhp-demo): watch.jsonl,
#   timeline.svg.
# Safe to run again: a demo VM left from an interrupted run is stopped first. Exits non-zero if
# any step did not end as it should (the summary says which).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$("$src/host-tools/setup/bootstrap.sh" | tail -n 1)
memhpctl=("$build/host-tools/memhpctl/memhpctl" --vm demo)
work=$(mktemp -d /tmp/memhp-demo.XXXXXX)
out=${MEMHP_DEMO_OUT:-/tmp/memhp-demo}
mkdir -p "$out"

step() { printf '\n== %s\n' "$*"; }

watch_pid=
cleanup() {
  "${memhpctl[@]}" stop >/dev/null 2>&1 || true
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null || true
  rm -rf "$work"
}
"${memhpctl[@]}" stop >/dev/null 2>&1 || true
trap cleanup EXIT

# run NAME CMD...: runs one memhpctl step, shows its output, records its exit code, its first
# output line and its wall time for the summary. memhpctl's exit codes: 0 done, 1 failed or
# refused, 2 usage, 3 timed out or partly done.
names=() codes=() secs=() lines=()
failed=0
run() {
  local name=$1
  shift
  local start end code=0
  start=$(date +%s%N)
  "$@" >"$work/out" 2>"$work/err" || code=$?
  end=$(date +%s%N)
  cat "$work/out"
  [ -s "$work/err" ] && cat "$work/err" >&2
  names+=("$name")
  codes+=("$code")
  secs+=("$(awk -v ns=$((end - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')")
  # The headline: the first line (an operation's result), or for zones the totals (last line).
  local pick=(head -n 1)
  case "$name" in zones*) pick=(tail -n 1) ;; esac
  lines+=("$(cat "$work/out" "$work/err" | grep -v '^[[:space:]]*$' | "${pick[@]}" | cut -c1-100 || true)")
  [ "$code" -eq 0 ] || failed=1
  return 0
}

step "launch the default VM"
run "launch" "${memhpctl[@]}" launch
[ "${codes[0]}" -eq 0 ] || exit 1

# Every QMP, agent, operation and memhpd event, one JSON object per line, until memhpd ends.
"${memhpctl[@]}" watch --no-replay >"$work/watch.jsonl" &
watch_pid=$!

step "status: QEMU's memory devices and the agent's inventory"
run "status" "${memhpctl[@]}" status
step "zones per node, before"
run "zones (before)" "${memhpctl[@]}" zones

step "plug a 256 MiB DIMM into node 1: admission, object-add + device_add, the agent onlines it"
run "plug dimm1 256 MiB node 1" "${memhpctl[@]}" plug --size 256M --node 1 --id dimm1
step "grow node 1's virtio-mem device to 512 MiB"
run "resize vmem1 -> 512 MiB" "${memhpctl[@]}" resize vmem1 --size 512M
step "zones per node, after plugging"
run "zones (after plug)" "${memhpctl[@]}" zones
step "status after plugging"
run "status" "${memhpctl[@]}" status

step "unplug dimm1: the agent offlines its blocks all-or-nothing, then device_del"
run "unplug dimm1" "${memhpctl[@]}" unplug dimm1
step "shrink vmem1 back to 0 (the agent offlines its blocks first)"
run "resize vmem1 -> 0" "${memhpctl[@]}" resize vmem1 --size 0 --offline-first
step "zones per node, at the end"
run "zones (end)" "${memhpctl[@]}" zones

step "stop"
run "stop" "${memhpctl[@]}" stop
# memhpd said "qemu_gone" and ended: the watch ends by itself with exit code 0.
watch_code=0
wait "$watch_pid" || watch_code=$?
watch_pid=

step "what the watch stream saw (memhpctl watch, one JSON object per line)"
python3 - "$work/watch.jsonl" <<'PY'
import collections, json, sys
counts = collections.Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)
    counts[(e["source"], e["name"])] += 1
for (source, name), n in sorted(counts.items()):
    print("  %-10s %-20s %d" % (source, name, n))
PY
[ "$watch_code" -eq 0 ] || { echo "watch ended with exit code $watch_code" >&2; failed=1; }

step "the recording as a picture: $out/timeline.svg (memhpctl timeline)"
cp "$work/watch.jsonl" "$out/watch.jsonl"
run "timeline" "${memhpctl[@]}" timeline "$out/watch.jsonl" -o "$out/timeline.svg"

step "summary"
printf '  %-28s %-5s %8s  %s\n' STEP EXIT SECONDS RESULT
for i in "${!names[@]}"; do
  printf '  %-28s %-5s %8s  %s\n' "${names[$i]}" "${codes[$i]}" "${secs[$i]}" "${lines[$i]}"
done
exit "$failed"
