// device_map — see device_map.h.
#include "daemon/operations/device_map.h"

namespace memhp::daemon::operations {

memhp::v1::DeviceMap BuildDeviceMap(const std::vector<memhp::v1::MemoryDevice>& devices,
                                    const std::map<std::string, memhp::v1::OnlineTarget>& targets) {
  memhp::v1::DeviceMap map;
  for (const auto& device : devices) {
    if (static_cast<size_t>(map.devices_size()) >= kMaxDeviceMapEntries) break;
    const bool dimm = device.kind() == memhp::v1::MEMORY_DEVICE_KIND_DIMM;
    const bool vmem = device.kind() == memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM;
    if (!dimm && !vmem) continue;
    auto* range = map.add_devices();
    range->set_device_id(device.id());
    range->set_kind(device.kind());
    range->set_start(device.address());
    range->set_size(dimm ? device.size() : device.max_size());
    range->set_node(device.node());
    if (auto it = targets.find(device.id()); it != targets.end()) range->set_target(it->second);
  }
  return map;
}

const memhp::v1::MemoryDevice* FindDevice(const std::vector<memhp::v1::MemoryDevice>& devices,
                                          const std::string& id) {
  for (const auto& device : devices) {
    if (!id.empty() && device.id() == id) return &device;
  }
  return nullptr;
}

std::string ObjectIdFromPath(const std::string& qom_path) {
  const size_t slash = qom_path.rfind('/');
  return slash == std::string::npos ? qom_path : qom_path.substr(slash + 1);
}

}  // namespace memhp::daemon::operations
