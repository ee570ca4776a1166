// memhp — choosing which online blocks to give back (see offline_choice.h).
//
// Why this order: offline_pages() (mm/memory_hotplug.c) must migrate every page out of the
// block and fails on unmovable ones; only ZONE_MOVABLE promises none ("ZONE_MOVABLE ... only
// movable allocations", Documentation/admin-guide/mm/memory-hotplug.rst), so MOVABLE blocks
// come first. Among them, finishing one device before starting the next lets the host unplug
// it (a DIMM only leaves once all its blocks are offline; a virtio-mem device shrinks by whole
// device blocks), hence devices without pins first, then the emptiest. Boot memory cannot be
// unplugged at all, so it is the last resort and guarded by a reserve.
#include "policy/offline_choice.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace memhp::agent {
namespace {

struct DeviceStats {
  uint32_t online = 0;  // online blocks of the device on the node
  bool has_pin = false;
};

}  // namespace

std::vector<uint32_t> ChooseBlocksToOffline(const OfflineRequest& request,
                                            std::span<const OfflineCandidate> online_blocks) {
  std::vector<uint32_t> chosen;
  if (request.bytes == 0 || request.block_size_bytes == 0) return chosen;
  const uint64_t wanted = request.bytes / request.block_size_bytes +
                          (request.bytes % request.block_size_bytes != 0 ? 1 : 0);

  std::map<std::string, DeviceStats> devices;
  uint64_t boot_online = 0;
  std::vector<const OfflineCandidate*> pool;
  for (const OfflineCandidate& b : online_blocks) {
    if (b.node != request.node) continue;
    if (b.device) {
      DeviceStats& st = devices[*b.device];
      ++st.online;
      st.has_pin = st.has_pin || b.pinned;
    } else {
      ++boot_online;
    }
    if (!b.pinned) pool.push_back(&b);
  }

  // Sort key, smallest first: (not MOVABLE, boot memory, device has a pin, device's online
  // blocks, device id, highest block id first).
  auto key = [&](const OfflineCandidate* b) {
    const bool boot = !b->device;
    const DeviceStats st = boot ? DeviceStats{} : devices.at(*b->device);
    return std::make_tuple(b->zone != memhp::v1::ZONE_MOVABLE, boot, st.has_pin, st.online,
                           boot ? std::string() : *b->device, UINT32_MAX - b->id);
  };
  std::stable_sort(pool.begin(), pool.end(),
                   [&](const OfflineCandidate* a, const OfflineCandidate* b) {
                     return key(a) < key(b);
                   });

  const uint64_t reserve_blocks = request.boot_reserve_bytes / request.block_size_bytes +
                                  (request.boot_reserve_bytes % request.block_size_bytes != 0);
  uint64_t boot_taken = 0;
  for (const OfflineCandidate* b : pool) {
    if (chosen.size() >= wanted) break;
    if (!b->device) {
      // Boot memory left online after taking this one must still cover the reserve.
      if (boot_online - boot_taken - 1 < reserve_blocks) continue;
      ++boot_taken;
    }
    chosen.push_back(b->id);
  }
  return chosen;
}

}  // namespace memhp::agent
