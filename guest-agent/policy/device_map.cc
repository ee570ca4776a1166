// memhp — the host's device map (see device_map.h).
#include "policy/device_map.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <set>

namespace memhp::agent {
namespace {

__extension__ using U128 = unsigned __int128;  // block x block size may pass 64 bits

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string Name(const memhp::v1::DeviceRange& d, int index) {
  return d.device_id().empty() ? "device #" + std::to_string(index) : "device '" + d.device_id() + "'";
}

}  // namespace

Result<DeviceMapTable> DeviceMapTable::Validate(const memhp::v1::DeviceMap& map,
                                                uint64_t block_size_bytes) {
  if (static_cast<std::size_t>(map.devices_size()) > kMaxMapDevices) {
    return Error{E2BIG, "device map of " + std::to_string(map.devices_size()) +
                            " devices; at most " + std::to_string(kMaxMapDevices)};
  }
  if (block_size_bytes == 0) return Error{EIO, "the guest's memory block size is unknown"};
  DeviceMapTable table;
  table.block_size_bytes_ = block_size_bytes;
  std::set<std::string> ids;
  for (int i = 0; i < map.devices_size(); ++i) {
    const memhp::v1::DeviceRange& d = map.devices(i);
    const std::string name = Name(d, i);
    if (d.device_id().empty() || d.device_id().size() > kMaxDeviceIdBytes) {
      return Error::Invalid(name + ": a device id of 1 to " + std::to_string(kMaxDeviceIdBytes) +
                            " bytes is needed");
    }
    if (!ids.insert(d.device_id()).second) return Error::Invalid(name + " appears twice");
    if (d.kind() != memhp::v1::MEMORY_DEVICE_KIND_DIMM &&
        d.kind() != memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM) {
      return Error::Invalid(name + ": kind must be DIMM or VIRTIO_MEM (the only ones that add "
                                   "memory blocks)");
    }
    if (!memhp::v1::OnlineTarget_IsValid(d.target())) {
      return Error::Invalid(name + ": unknown target " + std::to_string(d.target()));
    }
    if (d.size() == 0 || d.start() % block_size_bytes != 0 || d.size() % block_size_bytes != 0) {
      return Error::Invalid(name + ": range " + Hex(d.start()) + "+" + Hex(d.size()) +
                            " is not whole memory blocks of " + Hex(block_size_bytes) + " bytes");
    }
    if (d.start() > UINT64_MAX - d.size()) {
      return Error::Invalid(name + ": range " + Hex(d.start()) + "+" + Hex(d.size()) +
                            " wraps around the address space");
    }
    table.ranges_.push_back(d);
  }
  std::sort(table.ranges_.begin(), table.ranges_.end(),
            [](const auto& a, const auto& b) { return a.start() < b.start(); });
  for (std::size_t i = 1; i < table.ranges_.size(); ++i) {
    const auto& prev = table.ranges_[i - 1];
    const auto& cur = table.ranges_[i];
    if (cur.start() < prev.start() + prev.size()) {
      return Error::Invalid("device '" + cur.device_id() + "' [" + Hex(cur.start()) + ", " +
                            Hex(cur.start() + cur.size()) + ") overlaps device '" +
                            prev.device_id() + "' [" + Hex(prev.start()) + ", " +
                            Hex(prev.start() + prev.size()) + ")");
    }
  }
  return table;
}

const memhp::v1::DeviceRange* DeviceMapTable::FindAddress(uint64_t address) const {
  // The last range starting at or below the address, if it reaches that far.
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), address,
                             [](uint64_t a, const auto& d) { return a < d.start(); });
  if (it == ranges_.begin()) return nullptr;
  --it;
  return address - it->start() < it->size() ? &*it : nullptr;
}

const memhp::v1::DeviceRange* DeviceMapTable::FindBlock(uint32_t block) const {
  if (block_size_bytes_ == 0) return nullptr;
  const U128 address = U128{block} * block_size_bytes_;
  if (address > UINT64_MAX) return nullptr;
  return FindAddress(static_cast<uint64_t>(address));
}

std::string DeviceMapTable::DeviceIdOf(uint32_t block) const {
  const memhp::v1::DeviceRange* d = FindBlock(block);
  return d ? d->device_id() : std::string();
}

}  // namespace memhp::agent
