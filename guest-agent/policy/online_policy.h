// memhp — the onlining policy: which zone a device's hot-added blocks go to (pure, no I/O).
//
// The agent reads sysfs and /proc/zoneinfo, builds a PolicyInput for ONE device's group of
// offline blocks (a DIMM's range, a virtio-mem device's newly added blocks, or offline boot
// memory), and writes what Decide() says to each block's `state` (drivers/base/memory.c
// state_store(), S20). The policies mirror the kernel's own (mm/memory_hotplug.c,
// Documentation/admin-guide/mm/memory-hotplug.rst, "Onlining and Offlining Memory Blocks"):
//   manual          leave offline          (auto_online_blocks=offline)
//   online          "online"               (the kernel's default zone, zone_for_pfn_range())
//   online_kernel   "online_kernel"        (MMOP_ONLINE_KERNEL)
//   online_movable  "online_movable"       (MMOP_ONLINE_MOVABLE)
//   auto-movable    MOVABLE while MOVABLE <= ratio% x KERNEL, else KERNEL — the kernel's
//                   memory_hotplug.online_policy=auto-movable with memory_hotplug.
//                   auto_movable_ratio (default 301) and auto_movable_numa_aware (default Y);
//                   see online_policy.cc for how its accounting is reproduced.
// Every policy puts the whole group in ONE zone, so a DIMM stays unpluggable as a unit (the
// kernel's static memory groups, commit 445fcf7c "memory group aware auto-movable"), and never
// picks a zone some block's valid_zones does not offer (valid_zones_show()): it falls back to
// the other zone class, or leaves the group offline, and says so in the reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "memhp/v1/memory.pb.h"
#include "sysfs/linux_abi.h"
#include "sysfs/result.h"
#include "sysfs/sysfs_parse.h"

namespace memhp::agent {

// docs/architecture.md, "Onlining policy". Names are the kernel's online_type_to_str[] plus its
// online_policy_to_str[] spelling of "auto-movable" (mm/memory_hotplug.c).
enum class PolicyKind { kManual, kOnline, kOnlineKernel, kOnlineMovable, kAutoMovable };

// "manual", "online", "online_kernel", "online_movable", "auto-movable" (exact); anything
// else is an EINVAL Error that lists the accepted names.
[[nodiscard]] Result<PolicyKind> ParsePolicyKind(std::string_view text);
[[nodiscard]] std::string_view FormatPolicyKind(PolicyKind kind);

// A policy is not an online type, but all but one write the same online type to every group:
// manual leaves blocks offline (kOffline: nothing written), online / online_kernel /
// online_movable are the kernel's online types of the same name. Nothing for kAutoMovable,
// which decides group by group (Decide()).
[[nodiscard]] std::optional<abi::OnlineType> PolicyOnlineType(PolicyKind kind);

// The kernel's defaults: memory_hotplug.auto_movable_ratio=301 ("allowing for hotplugging
// 24 GiB to a 8 GiB VM ... the additional 1% deals with some pages being not present") and
// memory_hotplug.auto_movable_numa_aware=Y (the ratio holds system-wide AND per node).
// movable_ratio_percent and numa_aware only matter for kAutoMovable; a ratio of 0 means
// "never MOVABLE", as in the kernel's auto_movable_zone_for_pfn().
struct PolicyConfig {
  PolicyKind kind = PolicyKind::kManual;
  uint32_t movable_ratio_percent = 301;
  bool numa_aware = true;
};

// Where a group of blocks came from. The kernel's memory groups (include/linux/memory.h):
// a DIMM is a static group (all blocks one zone; any KERNEL block makes the rest KERNEL), a
// virtio-mem device a dynamic group (its own KERNEL memory allows more MOVABLE within the
// same device). Boot memory belongs to no group.
enum class DeviceKind { kBootMemory, kDimm, kVirtioMem };

// A zone the host asked for with the plug; it overrides the policy (even kManual: the host
// asked for the memory to be usable).
enum class ZoneRequest { kNone, kDefault, kKernel, kMovable };  // kDefault: "online"

// One offline block of the group. valid_zones is nullopt when it could not be read (kernels
// without CONFIG_MEMORY_HOTREMOVE have no such file): then nothing is ruled out.
struct GroupBlock {
  uint32_t id = 0;
  std::optional<std::vector<memhp::v1::Zone>> valid_zones;
};

// Hot-added memory of one device that is already online, from the agent's inventory. The
// kernel counts only boot-time KERNEL memory (zone->present_early_pages) as the base of the
// ratio, so hot-added KERNEL memory is subtracted from /proc/zoneinfo's KERNEL zones; see
// online_policy.cc for the virtio-mem accounting.
struct DeviceMemory {
  uint32_t node = 0;
  DeviceKind kind = DeviceKind::kDimm;
  uint64_t kernel_bytes = 0;   // online in DMA / DMA32 / Normal
  uint64_t movable_bytes = 0;  // online in Movable
};

struct PolicyInput {
  PolicyConfig config;
  std::vector<GroupBlock> blocks;  // the group, onlined together in this order
  uint64_t block_size_bytes = 0;   // block_size_bytes
  uint64_t page_size_bytes = 4096; // zoneinfo counts pages; PAGE_SIZE on x86_64
  uint32_t node = 0;               // the node every block of the group belongs to
  DeviceKind device_kind = DeviceKind::kBootMemory;
  ZoneRequest requested_zone = ZoneRequest::kNone;
  // /proc/zoneinfo (ParseZoneInfo): present pages of every zone of every node.
  std::vector<ZoneInfoEntry> zoneinfo;
  // This device's memory already online in a kernel zone (a DIMM partly onlined KERNEL, a
  // virtio-mem device that grew before). Its MOVABLE memory needs no field: it is in zoneinfo.
  uint64_t device_kernel_bytes = 0;
  // Every OTHER hot-added device's online memory.
  std::vector<DeviceMemory> other_devices;
};

struct BlockWrite {
  uint32_t block_id = 0;
  std::string_view value;  // abi::OnlineTypeName(action): "online", "online_kernel" or "online_movable"
  bool operator==(const BlockWrite&) const = default;
};

struct OnlineDecision {
  // What to write to each block's `state`; kOffline: nothing, the group stays offline.
  abi::OnlineType action = abi::OnlineType::kOffline;
  // The zone the group lands in: the kernel zone valid_zones names (Normal, DMA32, ...) or
  // Movable; ZONE_UNSPECIFIED when left offline, or for "online" with valid_zones unknown.
  memhp::v1::Zone zone = memhp::v1::ZONE_UNSPECIFIED;
  std::vector<BlockWrite> writes;  // one per block, input order; empty when left offline
  bool fell_back = false;          // valid_zones forced a zone other than the one chosen
  std::string reason;              // for people and the host's report, never parsed
};

// The decision for one group. Pure: same input, same answer.
[[nodiscard]] OnlineDecision Decide(const PolicyInput& input);

}  // namespace memhp::agent
