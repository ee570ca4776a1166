// memhp — the dry-run estimate: how much of a set of blocks could be unplugged now (pure).
//
// `memhpctl unplug --dry-run` and `resize --dry-run` ask this before anyone tries. The kernel
// gives no answer of its own: memoryN/removable is always 1 since Linux 5.x (drivers/base/
// memory.c removable_show() stopped scanning pageblocks), so the estimate is built from what the
// agent can read and from the rules its notifier model applies at MEM_GOING_OFFLINE (S4):
//
//   - a block already offline goes without an offline; one going-offline or in an unknown
//     state is BUSY (another offline runs);
//   - on the agent's path (ESTIMATE_PATH_AGENT: a DIMM unplug, offline, resize --offline-first)
//     a held pin over the block is the pin guard's veto (S22), and MemAvailable minus the
//     blocks taken so far minus this one below the reserve is the reserve guard's (the guard
//     reads MemAvailable at each GOING_OFFLINE, and every block offlined before it has already
//     taken its bytes out of it);
//   - on both paths the pages in use must be migrated into free memory that stays
//     (mm/memory_hotplug.c offline_pages() -> do_migrate_range(), and the virtio-mem driver's
//     alloc_contig_range() in virtio_mem_fake_offline()). Where they sit inside the guest does
//     not matter to the sum: after N blocks go, what stays available is MemAvailable − N blocks
//     (free pages of the blocks disappear, pages in use take free pages elsewhere). A block
//     that would take it below zero is NO_ROOM;
//   - a block online in a kernel zone may hold unmovable allocations (Documentation/admin-guide/
//     mm/memory-hotplug.rst, "ZONE_MOVABLE"); whether it can go is known only by trying, so it
//     is KERNEL_ZONE and not counted (the estimate errs on the side of "cannot");
//   - hook scripts are listed, never run: a hook may release memory when it runs (S4), which a
//     dry run must not cause. Their veto is the one thing the estimate cannot foresee;
//   - with all-or-nothing (a DIMM unplug), one blocker stops every block: the others are SKIPPED.
// The driver's path ignores pins, the reserve and hooks: Linux's virtio-mem driver never calls
// the agent's chain (the agent only observes its offlines).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "memhp/v1/agent.pb.h"

namespace memhp::agent {

// One block asked about, as the inventory has it; present false: no such block.
struct EstimateBlock {
  uint32_t id = 0;
  bool present = true;
  memhp::v1::BlockState state = memhp::v1::BLOCK_STATE_UNSPECIFIED;
  memhp::v1::Zone zone = memhp::v1::ZONE_UNSPECIFIED;
  int32_t node = -1;
  std::string device_id;
};

// A held pin: guest-physical [start, end).
struct PinnedSpan {
  std::string name;
  uint64_t start = 0;
  uint64_t end = 0;
};

// What the estimate rests on, read once (the agent's sysfs, /proc/meminfo, /proc/zoneinfo, its
// pins folder and hooks folder).
struct EstimateFacts {
  uint64_t block_size_bytes = 0;
  uint64_t mem_available_bytes = 0;
  uint64_t reserve_bytes = 0;       // the reserve guard's; 0: off
  uint64_t free_bytes = 0;          // zoneinfo free pages of every zone, in bytes
  uint64_t movable_free_bytes = 0;  // of them, ZONE_MOVABLE's
  std::vector<PinnedSpan> pins;
  std::vector<std::string> hooks;   // at most kMaxEstimateHooks are reported
};

inline constexpr size_t kMaxEstimateHooks = 64;

// One BlockEstimate per block in `blocks`' order, and the sums. block_size_bytes must be set
// (0 makes every block NO_ROOM, said in its reason).
[[nodiscard]] memhp::v1::UnplugEstimate EstimateUnplug(std::span<const EstimateBlock> blocks,
                                                       const EstimateFacts& facts,
                                                       memhp::v1::EstimatePath path, bool all_or_nothing);

}  // namespace memhp::agent
