// memhp — struct memory_notify (S10–S13) and the pure computation of its four fields.
//
// The kernel fills one `struct memory_notify` per online_pages()/offline_pages() call
// (mm/memory_hotplug.c) and hands the same value to every event of that transition: GOING_*,
// then ONLINE/OFFLINE or CANCEL_* (S1–S6). The agent re-creates it in user space from values
// it can read: the block's start address and size (sysfs), the page size, the node's masks
// (node/has_memory, node/has_normal_memory) and the node's present pages (/proc/zoneinfo).
// Nothing here does I/O; the caller reads those values and this file only does arithmetic,
// so every rule is a table row in tests/unit/notifier/memory_notify_test.cc.
//
// The node-state rules follow Linux 6.1, mm/memory_hotplug.c:
//   node_states_check_changes_online():
//     status_change_nid        = nid  if the node is not in N_MEMORY yet            (S13)
//     status_change_nid_normal = nid  if zone_idx(zone) <= ZONE_NORMAL and the node
//                                     is not in N_NORMAL_MEMORY yet                  (S12)
//   node_states_check_changes_offline():
//     status_change_nid_normal = nid  if zone_idx(zone) <= ZONE_NORMAL and
//                                     nr_pages >= present pages of the node's zones 0..NORMAL
//     status_change_nid        = nid  if nr_pages >= present pages of zones 0..NORMAL + MOVABLE
// (64-bit only: no ZONE_HIGHMEM, so N_HIGH_MEMORY == N_NORMAL_MEMORY; ZONE_DEVICE is not
// counted by the kernel either.) A MOVABLE online therefore never sets N_NORMAL_MEMORY (S13's
// "memoryless node gains memory" without S12), and a MOVABLE offline never clears it.
#pragma once

#include <cstdint>
#include <vector>

#include "memhp/v1/memory.pb.h"
#include "sysfs/result.h"
#include "sysfs/sysfs_parse.h"

namespace memhp::agent {

// NUMA_NO_NODE (include/linux/numa.h): "this bit of the node mask does not change" (S12, S13).
inline constexpr int kNumaNoNode = -1;

// The user-space twin of include/linux/memory.h's struct memory_notify (S10–S13).
struct MemoryNotify {
  uint64_t start_pfn = 0;                    // S10: first page frame number of the block
  uint64_t nr_pages = 0;                     // S11: pages going on/offline
  int status_change_nid_normal = kNumaNoNode;  // S12: nid if N_NORMAL_MEMORY flips, else -1
  int status_change_nid = kNumaNoNode;         // S13: nid if N_MEMORY flips, else -1
  bool operator==(const MemoryNotify&) const = default;
};

// Which way the block goes. The zone of an online is a separate field (BlockTransition::zone).
enum class BlockAction { kOnline, kOffline };

// True for the zones the kernel calls "kernel zones" here: zone_idx(zone) <= ZONE_NORMAL
// (DMA, DMA32, Normal). Movable, Device and Unspecified are not.
[[nodiscard]] bool IsKernelZone(memhp::v1::Zone zone);

// A node's present pages (/proc/zoneinfo "present", i.e. zone->present_pages), summed the way
// node_states_check_changes_offline() sums them. Read BEFORE the offline: the kernel computes
// the fields before MEM_GOING_OFFLINE, while the block's pages are still counted as present.
//
// Why counts and not "is this the last block" booleans: the kernel's test is arithmetic
// (nr_pages >= present), and present pages include memory that is not in any memory block the
// agent can see (boot memory holes, early-reserved ranges), so "last online block of the node"
// read from sysfs can disagree with the kernel; the zoneinfo counts cannot.
struct NodePresentPages {
  uint64_t kernel_zones = 0;  // DMA + DMA32 + Normal of the node
  uint64_t all_zones = 0;     // kernel_zones + Movable (Device not counted, like the kernel)
  bool operator==(const NodePresentPages&) const = default;
};

// Sums `entries` (ParseZoneInfo's output) for `node`. A node with no record sums to {0, 0}
// (an offline/memoryless node's zones may be absent). Overflow is an EOVERFLOW Error.
[[nodiscard]] Result<NodePresentPages> SumNodePresentPages(
    const std::vector<ZoneInfoEntry>& entries, uint32_t node);

// The guest-physical start of memory block `block_id`: block_id * block_size_bytes (memory
// blocks are numbered by address, drivers/base/memory.c memory_block_id(); see linux_abi.h).
// Overflow is an EOVERFLOW Error, a zero block size EINVAL.
[[nodiscard]] Result<uint64_t> BlockStartAddress(uint32_t block_id, uint64_t block_size_bytes);

// Everything the computation needs about one block transition.
struct BlockTransition {
  BlockAction action = BlockAction::kOnline;
  uint64_t start_address = 0;     // bytes; MemoryBlock.start_address or BlockStartAddress()
  uint64_t block_size_bytes = 0;  // memory/block_size_bytes
  uint64_t page_size_bytes = 0;   // sysconf(_SC_PAGESIZE) in the guest (4096 on x86_64)
  uint32_t node = 0;              // the block's node (memory<id>/node<nid>)
  // Online: the zone the block goes to — for a plain "online" the kernel's default zone, which
  // is the first entry of valid_zones. Offline: the zone the block is online in. Must be DMA,
  // DMA32, Normal or Movable.
  memhp::v1::Zone zone = memhp::v1::ZONE_UNSPECIFIED;
  // Online only: the node's masks before the online (node/has_memory, node/has_normal_memory).
  // Ignored for an offline, where the kernel decides by counting pages instead.
  bool node_has_memory = false;
  bool node_has_normal_memory = false;
  // Offline only: the node's present pages before the offline (SumNodePresentPages()).
  // Ignored for an online.
  NodePresentPages node_present{};
};

// Computes the four fields. Errors (nothing is guessed):
//   EINVAL    page size not a power of two, block size 0 or not a multiple of the page size,
//             start address not block-aligned, node above kMaxNodeId, zone not one of
//             DMA/DMA32/Normal/Movable, or (offline) kernel_zones > all_zones;
//   EOVERFLOW start_address + block_size_bytes does not fit in 64 bits.
// Offline counts smaller than the block (a stale zoneinfo) are not an error: like the kernel's
// ">=", they mean "the node/kernel zones become empty".
[[nodiscard]] Result<MemoryNotify> ComputeMemoryNotify(const BlockTransition& t);

}  // namespace memhp::agent
