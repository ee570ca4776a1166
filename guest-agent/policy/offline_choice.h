// memhp — choosing which online blocks to give back when the host asks for memory (pure).
//
// Used when the host asks for an amount on a node (BlockSelection.amount, `memhpctl offline
// --node N --size S`); a DIMM unplug and a virtio-mem shrink name their blocks themselves
// (docs/architecture.md, "The flows"). The agent offlines the chosen blocks one by one through
// the notifier chain, so the order matters — the blocks most likely to offline come first and
// the rest stay untouched.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "memhp/v1/memory.pb.h"

namespace memhp::agent {

// One online block that might be offlined.
struct OfflineCandidate {
  uint32_t id = 0;
  uint32_t node = 0;
  memhp::v1::Zone zone = memhp::v1::ZONE_UNSPECIFIED;
  std::optional<std::string> device;  // DIMM id / virtio-mem id; nullopt: boot memory
  bool pinned = false;                // a read-side pin (S22) holds it: never chosen
};

struct OfflineRequest {
  uint64_t bytes = 0;               // how much to free; rounded up to whole blocks
  uint32_t node = 0;                // only blocks of this node are considered
  uint64_t block_size_bytes = 0;
  uint64_t boot_reserve_bytes = 0;  // boot memory of the node that must stay online
};

// The blocks most likely to offline, in the order to try them:
//   1. MOVABLE before kernel zones (offline_pages() can migrate everything out of MOVABLE;
//      a kernel zone may hold unmovable allocations, Documentation/admin-guide/mm/
//      memory-hotplug.rst "ZONE_MOVABLE");
//   2. hot-added devices before boot memory, a device's blocks together, devices without
//      pinned blocks first, then the emptiest (fewest online blocks) — so whole devices free
//      up and can be unplugged; then by device id;
//   3. within a device, highest block id first.
// Pinned blocks and other nodes' blocks are never chosen; boot memory only while the node's
// online boot memory stays >= boot_reserve_bytes. Returns fewer blocks when not enough qualify.
[[nodiscard]] std::vector<uint32_t> ChooseBlocksToOffline(
    const OfflineRequest& request, std::span<const OfflineCandidate> online_blocks);

}  // namespace memhp::agent
