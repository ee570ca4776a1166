// memhp — grouping newly added blocks by the device that holds them, for the onlining policy.
//
// The kernel's auto-movable policy decides per memory group (include/linux/memory.h
// struct memory_group; mm/memory_hotplug.c auto_movable_zone_for_pfn()):
//   - a DIMM (ACPI memory device) is a STATIC group: its whole size is checked against the
//     ratio at once and all its blocks share one zone ("If anything is kernel, we have to
//     online all kernel") — so here a DIMM's new blocks form ONE group;
//   - a virtio-mem device is a DYNAMIC group: the kernel decides each memory block as it is
//     onlined, with the device's own KERNEL memory allowing more MOVABLE within it
//     (auto_movable_stats_account_group) — so here each virtio-mem block is its own group,
//     decided in order, and the accounting (DeviceUsage) is updated after each one;
//   - memory in no range of the host's map that the host's plug intent covers (plug_intent.h:
//     the map has not caught up with the hardware yet) is the intent's device's, grouped as
//     that device's kind would be in the map;
//   - memory in no range of the host's map (or no map at all) and no intent keeps the agent's
//     earlier behaviour: one group per node, treated as a DIMM's hot-added memory.
// A device's DeviceRange.target (the zone the host asked for), or the intent's target,
// overrides the policy for its blocks (ZoneRequest in online_policy.h).
//
// Pure: the agent reads sysfs and passes values in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "memhp/v1/memory.pb.h"
#include "policy/device_map.h"
#include "policy/online_policy.h"
#include "policy/plug_intent.h"

namespace memhp::agent {

// One offline block waiting for the policy.
struct AddedBlock {
  uint32_t id = 0;
  int32_t node = 0;
  std::optional<std::vector<memhp::v1::Zone>> valid_zones;
};

struct DeviceGroup {
  std::string device_id;  // "" for memory in no range of the map
  DeviceKind kind = DeviceKind::kDimm;
  ZoneRequest requested_zone = ZoneRequest::kNone;
  int32_t node = 0;
  std::vector<AddedBlock> blocks;  // in the order they were given
};

// Groups `blocks` (see the file comment). `map` may be null or empty; `intent` may be null, and
// claims (PlugIntentSlot::Claim) the blocks it covers that no range of the map holds, in order.
// Groups come in the order of their first block.
[[nodiscard]] std::vector<DeviceGroup> GroupByDevice(const std::vector<AddedBlock>& blocks,
                                                     const DeviceMapTable* map,
                                                     PlugIntentSlot* intent = nullptr);

// The zone the host asked for, as the policy's override.
[[nodiscard]] ZoneRequest ZoneRequestOf(memhp::v1::OnlineTarget target);

// One online block, for the per-device accounting.
struct OnlineBlock {
  uint32_t id = 0;
  int32_t node = 0;
  memhp::v1::Zone zone = memhp::v1::ZONE_UNSPECIFIED;
};

// Online hot-added memory per (device, node): what PolicyInput.device_kernel_bytes and
// .other_devices need. A block in no range is the intent's device's if `intent` (may be null)
// already covers it (a virtio-mem device growing over several bursts before its map came);
// otherwise it is not a device's and is left out (boot memory is the ratio's base, read from
// zoneinfo).
struct DeviceUsage {
  std::string device_id;
  DeviceMemory memory;
};

[[nodiscard]] std::vector<DeviceUsage> AccountDevices(const std::vector<OnlineBlock>& online,
                                                      const DeviceMapTable& map,
                                                      const PlugIntentSlot* intent = nullptr);
// Adds `bytes` onlined into `zone` for a device (after a policy decision was carried out).
void AddToUsage(std::vector<DeviceUsage>& usage, const std::string& device_id, DeviceKind kind,
                int32_t node, memhp::v1::Zone zone, uint64_t bytes);

// Fills input.device_kind, .node, .requested_zone, .blocks, .device_kernel_bytes and
// .other_devices for `group`; the caller sets config, sizes and zoneinfo.
void FillGroupInput(const DeviceGroup& group, const std::vector<DeviceUsage>& usage,
                    PolicyInput& input);

}  // namespace memhp::agent
