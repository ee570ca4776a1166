#!/usr/bin/env bash
# demo.sh — memhp's main job on the bundled default VM, from nothing.
#
# The README's first quick-start command: set-up (packages, build, guest kernel), then boot the
# default VM (q35, two NUMA nodes, a virtio-mem device per node, the agent on virtio-serial),
# show QEMU's memory devices beside the guest agent's view, plug a DIMM and grow a virtio-mem
# device (the agent onlines both by policy and reports every event), offline the DIMM's memory
# all-or-nothing, and stop. Safe to run again: a demo VM left from an interrupted run is
# stopped first. Plug/unplug become host transactions (memhpctl plug/unplug) in issue 4.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$("$src/host-tools/setup/bootstrap.sh" | tail -n 1)
memhpctl=("$build/host-tools/memhpctl/memhpctl" --vm demo)

step() { printf '\n== %s\n' "$*"; }

"${memhpctl[@]}" stop >/dev/null 2>&1 || true
trap '"${memhpctl[@]}" stop >/dev/null 2>&1 || true' EXIT

step "launch the default VM"
"${memhpctl[@]}" launch
step "status: QEMU's memory devices and the agent's inventory"
"${memhpctl[@]}" status
step "status --json, summarised (what scripts read)"
"${memhpctl[@]}" --json status | python3 -c '
import json, sys
s = json.load(sys.stdin)
g = s["agent"]["hello"]["guest"]
print("kernel %s, block size %s bytes, nodes %s" % (g["kernel_release"], g["block_size_bytes"], g["nodes"]))
for n in s["summary"]["nodes"]:
    print("node %d: %d blocks online, %d offline" % (n["node"], n["online_blocks"], n["offline_blocks"]))'
step "plug a 256 MiB DIMM into node 1 (QMP through memhpd); the agent onlines it by policy"
"${memhpctl[@]}" qmp object-add '{"qom-type":"memory-backend-ram","id":"demo-dimm1-mem","size":268435456}' >/dev/null
"${memhpctl[@]}" qmp device_add '{"driver":"pc-dimm","id":"demo-dimm1","memdev":"demo-dimm1-mem","node":1}' >/dev/null
step "grow node 0's virtio-mem device to 512 MiB"
"${memhpctl[@]}" qmp qom-set '{"path":"vmem0","property":"requested-size","value":536870912}' >/dev/null
sleep 4
"${memhpctl[@]}" status
step "the memory events the agent reported (seq, event, block, zone, origin, memory_notify)"
"${memhpctl[@]}" events
step "offline node 1's hot-added 256 MiB, all or nothing, through the agent"
"${memhpctl[@]}" offline --node 1 --size 256M --all-or-nothing || true
step "stop"
"${memhpctl[@]}" stop
trap - EXIT
