// status_summary — what `memhpctl status` derives from a VmStatus, computed once for both
// renderers (status_view.h): the text tables and the "summary" object of the JSON.
//
// Per-node counts come from the inventory's blocks, not from the agent's own Node counters, so
// the numbers always agree with the block list shown next to them. A block is "online" when
// its state is BLOCK_STATE_ONLINE; every other state (offline, going-offline, unknown) counts
// as offline, as memory.proto's Node.offline_blocks defines it. Zones are counted over online
// blocks only: an offline block has no zone (its valid_zones say where it *could* go).
//
// The last inventory is summarised even when the agent is not connected; `agent_connected`
// says whether it is current.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "memhp/v1/control.pb.h"

namespace memhp::ctl {

struct NodeSummary {
  int32_t node = 0;  // -1 groups blocks that no nodeN directory links
  uint32_t online_blocks = 0;
  uint32_t offline_blocks = 0;        // every state but online
  uint32_t going_offline_blocks = 0;  // of offline_blocks: an offline in progress (S4)
  uint32_t unknown_state_blocks = 0;  // of offline_blocks: a state the agent did not recognise
  // Online blocks per zone, in zone order. ZONE_UNSPECIFIED counts online blocks whose zone
  // the agent could not tell; it is absent when there are none.
  std::map<memhp::v1::Zone, uint32_t> zones;
  // The inventory's entry for this node (its node-mask membership), when it lists one.
  std::optional<memhp::v1::Node> kernel_node;
};

struct StatusSummary {
  bool agent_connected = false;
  bool has_inventory = false;  // the agent sent at least one inventory (maybe stale)
  // The guest's memory block size: the inventory's, else the hello's, else 0 (unknown).
  uint64_t block_size_bytes = 0;
  // Every node the inventory lists or a block names, ordered by id (-1 first, if any).
  std::vector<NodeSummary> nodes;
  size_t devices = 0;
  // The sum of the devices' current sizes: what QEMU's query-memory-size-summary calls
  // plugged-memory (hw/mem/memory-device.c sums the same per-device sizes), but consistent
  // with the device list of this very status.
  uint64_t plugged_bytes = 0;
};

[[nodiscard]] StatusSummary Summarize(const memhp::v1::VmStatus& status);

}  // namespace memhp::ctl
