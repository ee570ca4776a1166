// memhp — memory_notify computation (see memory_notify.h for the kernel rules it follows).
#include "notifier/memory_notify.h"

#include <cerrno>
#include <limits>
#include <string>

namespace memhp::agent {
namespace {

Error Overflow(std::string what) { return Error{EOVERFLOW, std::move(what)}; }

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

bool IsHotpluggableZone(memhp::v1::Zone zone) {
  return IsKernelZone(zone) || zone == memhp::v1::ZONE_MOVABLE;
}

}  // namespace

bool IsKernelZone(memhp::v1::Zone zone) {
  // zone_idx(zone) <= ZONE_NORMAL in include/linux/mmzone.h's enum zone_type order.
  switch (zone) {
    case memhp::v1::ZONE_DMA:
    case memhp::v1::ZONE_DMA32:
    case memhp::v1::ZONE_NORMAL:
      return true;
    default:
      return false;
  }
}

Result<NodePresentPages> SumNodePresentPages(const std::vector<ZoneInfoEntry>& entries,
                                             uint32_t node) {
  NodePresentPages sum;
  for (const ZoneInfoEntry& e : entries) {
    if (e.node != node) continue;
    const bool kernel = IsKernelZone(e.zone);
    // The kernel's sum: zones 0..ZONE_NORMAL, then + ZONE_MOVABLE. ZONE_DEVICE never has
    // present pages in the buddy sense and is left out, as in node_states_check_changes_offline().
    if (!kernel && e.zone != memhp::v1::ZONE_MOVABLE) continue;
    if (kernel && __builtin_add_overflow(sum.kernel_zones, e.present_pages, &sum.kernel_zones)) {
      return Overflow("zoneinfo: kernel-zone present pages of node " + std::to_string(node) +
                      " overflow 64 bits");
    }
    if (__builtin_add_overflow(sum.all_zones, e.present_pages, &sum.all_zones)) {
      return Overflow("zoneinfo: present pages of node " + std::to_string(node) +
                      " overflow 64 bits");
    }
  }
  return sum;
}

Result<uint64_t> BlockStartAddress(uint32_t block_id, uint64_t block_size_bytes) {
  if (block_size_bytes == 0) return Error::Invalid("block size is 0");
  uint64_t start = 0;
  if (__builtin_mul_overflow(uint64_t{block_id}, block_size_bytes, &start)) {
    return Overflow("block " + std::to_string(block_id) + " * block size " +
                    std::to_string(block_size_bytes) + " overflows 64 bits");
  }
  return start;
}

Result<MemoryNotify> ComputeMemoryNotify(const BlockTransition& t) {
  if (!IsPowerOfTwo(t.page_size_bytes)) {
    return Error::Invalid("page size " + std::to_string(t.page_size_bytes) +
                          " is not a power of two");
  }
  if (t.block_size_bytes == 0 || t.block_size_bytes % t.page_size_bytes != 0) {
    return Error::Invalid("block size " + std::to_string(t.block_size_bytes) +
                          " is not a non-zero multiple of the page size");
  }
  // Memory blocks are block-size aligned (drivers/base/memory.c numbers them by address).
  if (t.start_address % t.block_size_bytes != 0) {
    return Error::Invalid("start address " + std::to_string(t.start_address) +
                          " is not aligned to the block size");
  }
  uint64_t end = 0;
  if (__builtin_add_overflow(t.start_address, t.block_size_bytes, &end)) {
    return Overflow("block at " + std::to_string(t.start_address) + " + " +
                    std::to_string(t.block_size_bytes) + " overflows 64 bits");
  }
  // kMaxNodeId (4095) is far below INT_MAX, so the int fields of S12/S13 can hold any node.
  static_assert(kMaxNodeId <= static_cast<uint32_t>(std::numeric_limits<int>::max()));
  if (t.node > kMaxNodeId) {
    return Error::Invalid("node " + std::to_string(t.node) + " is above the largest node id");
  }
  if (!IsHotpluggableZone(t.zone)) {
    return Error::Invalid("zone " + std::to_string(static_cast<int>(t.zone)) +
                          " is not one memory blocks go on/offline in");
  }

  MemoryNotify n;
  n.start_pfn = t.start_address / t.page_size_bytes;  // S10
  n.nr_pages = t.block_size_bytes / t.page_size_bytes;  // S11
  const int nid = static_cast<int>(t.node);
  const bool kernel_zone = IsKernelZone(t.zone);

  switch (t.action) {
    case BlockAction::kOnline:
      // node_states_check_changes_online(): decided from the masks before the online.
      if (!t.node_has_memory) n.status_change_nid = nid;                           // S13
      if (kernel_zone && !t.node_has_normal_memory) n.status_change_nid_normal = nid;  // S12
      break;
    case BlockAction::kOffline:
      if (t.node_present.kernel_zones > t.node_present.all_zones) {
        return Error::Invalid("node " + std::to_string(t.node) +
                              ": kernel-zone present pages exceed all present pages");
      }
      // node_states_check_changes_offline(): the block's pages are all that is left.
      if (kernel_zone && n.nr_pages >= t.node_present.kernel_zones) {
        n.status_change_nid_normal = nid;  // S12
      }
      if (n.nr_pages >= t.node_present.all_zones) n.status_change_nid = nid;  // S13
      break;
  }
  return n;
}

}  // namespace memhp::agent
