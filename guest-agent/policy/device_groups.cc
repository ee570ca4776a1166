// memhp — grouping added blocks by device (see device_groups.h).
#include "policy/device_groups.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace memhp::agent {
namespace {

bool IsKernel(memhp::v1::Zone z) {
  return z == memhp::v1::ZONE_DMA || z == memhp::v1::ZONE_DMA32 || z == memhp::v1::ZONE_NORMAL;
}

DeviceKind KindOf(memhp::v1::MemoryDeviceKind kind) {
  return kind == memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM ? DeviceKind::kVirtioMem : DeviceKind::kDimm;
}

// The device a block belongs to, from the map's range or from the host's plug intent.
struct Owner {
  std::string device_id;
  memhp::v1::MemoryDeviceKind kind = memhp::v1::MEMORY_DEVICE_KIND_UNSPECIFIED;
  memhp::v1::OnlineTarget target = memhp::v1::ONLINE_TARGET_UNSPECIFIED;
};

std::optional<Owner> OwnerOf(const AddedBlock& b, const DeviceMapTable* map, PlugIntentSlot* intent) {
  if (const memhp::v1::DeviceRange* d = map ? map->FindBlock(b.id) : nullptr) {
    return Owner{d->device_id(), d->kind(), d->target()};
  }
  if (const memhp::v1::PlugIntent* i = intent ? intent->Claim(b.id, b.node, map) : nullptr) {
    return Owner{i->device_id(), i->kind(), i->target()};
  }
  return std::nullopt;
}

}  // namespace

ZoneRequest ZoneRequestOf(memhp::v1::OnlineTarget target) {
  switch (target) {
    case memhp::v1::ONLINE_TARGET_DEFAULT: return ZoneRequest::kDefault;
    case memhp::v1::ONLINE_TARGET_KERNEL: return ZoneRequest::kKernel;
    case memhp::v1::ONLINE_TARGET_MOVABLE: return ZoneRequest::kMovable;
    default: return ZoneRequest::kNone;
  }
}

std::vector<DeviceGroup> GroupByDevice(const std::vector<AddedBlock>& blocks,
                                       const DeviceMapTable* map, PlugIntentSlot* intent) {
  std::vector<DeviceGroup> groups;
  // (device id, node) -> index in groups, for the groups that collect several blocks.
  std::map<std::pair<std::string, int32_t>, std::size_t> open;
  for (const AddedBlock& b : blocks) {
    const std::optional<Owner> d = OwnerOf(b, map, intent);
    if (d && d->kind == memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM) {
      // Dynamic group: the kernel decides block by block.
      groups.push_back(DeviceGroup{.device_id = d->device_id, .kind = DeviceKind::kVirtioMem,
                                   .requested_zone = ZoneRequestOf(d->target), .node = b.node,
                                   .blocks = {b}});
      continue;
    }
    const std::string id = d ? d->device_id : std::string();
    auto [it, fresh] = open.try_emplace({id, b.node}, groups.size());
    if (fresh) {
      groups.push_back(DeviceGroup{.device_id = id, .kind = DeviceKind::kDimm,
                                   .requested_zone = d ? ZoneRequestOf(d->target) : ZoneRequest::kNone,
                                   .node = b.node, .blocks = {}});
    }
    groups[it->second].blocks.push_back(b);
  }
  return groups;
}

void AddToUsage(std::vector<DeviceUsage>& usage, const std::string& device_id, DeviceKind kind,
                int32_t node, memhp::v1::Zone zone, uint64_t bytes) {
  if (device_id.empty() || node < 0) return;
  auto it = std::find_if(usage.begin(), usage.end(), [&](const DeviceUsage& u) {
    return u.device_id == device_id && u.memory.node == static_cast<uint32_t>(node);
  });
  if (it == usage.end()) {
    usage.push_back(DeviceUsage{device_id, DeviceMemory{.node = static_cast<uint32_t>(node), .kind = kind,
                                                        .kernel_bytes = 0, .movable_bytes = 0}});
    it = usage.end() - 1;
  }
  if (zone == memhp::v1::ZONE_MOVABLE) it->memory.movable_bytes += bytes;
  if (IsKernel(zone)) it->memory.kernel_bytes += bytes;
}

std::vector<DeviceUsage> AccountDevices(const std::vector<OnlineBlock>& online,
                                        const DeviceMapTable& map, const PlugIntentSlot* intent) {
  std::vector<DeviceUsage> usage;
  for (const OnlineBlock& b : online) {
    if (const memhp::v1::DeviceRange* d = map.FindBlock(b.id)) {
      AddToUsage(usage, d->device_id(), KindOf(d->kind()), b.node, b.zone, map.block_size_bytes());
    } else if (const memhp::v1::PlugIntent* i = intent ? intent->Find(b.id) : nullptr) {
      AddToUsage(usage, i->device_id(), KindOf(i->kind()), b.node, b.zone, intent->block_size_bytes());
    }
  }
  return usage;
}

void FillGroupInput(const DeviceGroup& group, const std::vector<DeviceUsage>& usage,
                    PolicyInput& input) {
  input.device_kind = group.kind;
  input.node = static_cast<uint32_t>(std::max(group.node, 0));
  input.requested_zone = group.requested_zone;
  input.blocks.clear();
  for (const AddedBlock& b : group.blocks) input.blocks.push_back(GroupBlock{.id = b.id, .valid_zones = b.valid_zones});
  input.device_kernel_bytes = 0;
  input.other_devices.clear();
  for (const DeviceUsage& u : usage) {
    if (!group.device_id.empty() && u.device_id == group.device_id) {
      input.device_kernel_bytes += u.memory.kernel_bytes;
    } else {
      input.other_devices.push_back(u.memory);
    }
  }
}

}  // namespace memhp::agent
