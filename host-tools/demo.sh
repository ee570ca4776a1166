#!/usr/bin/env bash
# demo.sh — memhp's main job on the bundled default VM, from nothing.
#
# The README's first quick-start command: set-up (packages, build, guest kernel), then boot the
# default VM (q35, two NUMA nodes, a virtio-mem device per node, the agent on virtio-serial),
# show QEMU's memory devices beside the guest agent's view, and stop it. Safe to run again: a
# demo VM left from an interrupted run is stopped first. It grows as plug and unplug land.
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
step "stop"
"${memhpctl[@]}" stop
trap - EXIT
